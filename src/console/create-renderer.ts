import { Eta } from 'eta';

/** Renders a template of `viewsDir` with `data` (as `it`): every `<%= %>` is HTML-escaped. */
export type Render = (view: string, data: Record<string, unknown>) => string;

/**
 * The console's template engine: eta with autoescaping on (issue 11: relay_ids, reasons and alert
 * texts are user-controlled; only `<%~ %>` of fixed strings and the layout's body are raw).
 */
export function createRenderer(viewsDir: string): Render {
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true, autoTrim: false });
  return (view, data) => eta.render(`./${view}`, data);
}
