import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceDefinitionError, type ServiceSpec } from '../../src/service/service-spec.js';
import { quoteWindowsArg, renderWinswXml, winswHome } from '../../src/service/winsw-xml.js';

const SPEC: ServiceSpec = {
  nodePath: 'C:\\Program Files\\nodejs\\node.exe',
  installDir: 'C:\\Trade Relay',
  scriptPath: 'C:\\Trade Relay\\bin\\trade-relay.js',
  home: 'C:\\Trade Relay\\data',
};

/**
 * How a Windows program (node.exe included) splits its command line: CommandLineToArgvW's rules.
 * 2n backslashes before a quote are n backslashes and the quote opens or closes; 2n+1 are n and a
 * literal quote; "" inside quotes is a literal quote; other backslashes are literal.
 */
function parseWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '\\') {
      let n = 0;
      while (line[i] === '\\') {
        n++;
        i++;
      }
      if (line[i] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else i--;
      } else {
        current += '\\'.repeat(n);
        i--;
      }
      started = true;
    } else if (ch === '"') {
      if (inQuotes && line[i + 1] === '"') {
        current += '"';
        i++;
      } else inQuotes = !inQuotes;
      started = true;
    } else if ((ch === ' ' || ch === '\t') && !inQuotes) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** The text of each element and the attributes of each empty element, entities decoded; fails on malformed markup. */
function elements(xml: string): { text: Record<string, string[]>; empty: Record<string, string>[] } {
  const decode = (v: string) => {
    expect(v, 'a bare & or < in XML text').not.toMatch(/&(?!(amp|lt|gt|quot|apos);)|</);
    return v
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  };
  const text: Record<string, string[]> = {};
  for (const m of xml.matchAll(/<(\w+)>([^<]*)<\/\1>/g)) text[m[1] as string] = [...(text[m[1] as string] ?? []), decode(m[2] as string)];
  const empty = [...xml.matchAll(/<(\w+)((?: \w+="[^"]*")*)\/>/g)].map((m) => ({
    tag: m[1] as string,
    ...Object.fromEntries([...(m[2] as string).matchAll(/ (\w+)="([^"]*)"/g)].map((a) => [a[1] as string, decode(a[2] as string)])),
  }));
  return { text, empty };
}

describe('renderWinswXml', () => {
  it('runs node.exe on the launcher from the install folder with the data folder pinned', () => {
    const xml = renderWinswXml(SPEC);
    const { text, empty } = elements(xml);
    expect(text.id).toEqual(['trade-relay']);
    expect(text.executable).toEqual(['C:\\Program Files\\nodejs\\node.exe']);
    expect(parseWindowsCommandLine(text.arguments?.[0] as string)).toEqual(['C:\\Trade Relay\\bin\\trade-relay.js', 'start']);
    expect(text.workingdirectory).toEqual(['C:\\Trade Relay']);
    expect(empty.filter((e) => e.tag === 'env')).toEqual([{ tag: 'env', name: 'RELAY_HOME', value: 'C:\\Trade Relay\\data' }]);
    expect(xml.startsWith('<!--')).toBe(true);
    expect(xml.split('\r\n').at(-2)).toBe('</service>');
  });

  it('starts at boot, restarts after a failure with a growing delay, and stops with time to close', () => {
    const { text, empty } = elements(renderWinswXml(SPEC));
    expect(text.startmode).toEqual(['Automatic']);
    expect(empty.filter((e) => e.tag === 'onfailure')).toEqual([
      { tag: 'onfailure', action: 'restart', delay: '5 sec' },
      { tag: 'onfailure', action: 'restart', delay: '30 sec' },
      { tag: 'onfailure', action: 'restart', delay: '60 sec' },
    ]);
    expect(text.resetfailure).toEqual(['1 hour']);
    expect(text.stoptimeout).toEqual(['30 sec']);
  });

  it('keeps the console output, rolled, in the data folder', () => {
    const xml = renderWinswXml(SPEC);
    expect(elements(xml).text.logpath).toEqual(['C:\\Trade Relay\\data']);
    expect(xml).toContain('<log mode="roll-by-size">\r\n    <sizeThreshold>5120</sizeThreshold>\r\n    <keepFiles>3</keepFiles>\r\n  </log>');
  });

  it("holds paths with &, <, ', spaces and a trailing backslash exactly", () => {
    const dir = "D:\\R&D <test> it's\\";
    const spec = { nodePath: `${dir}node.exe`, installDir: dir, scriptPath: `${dir}bin\\trade-relay.js`, home: `${dir}data\\` };
    const xml = renderWinswXml(spec);
    const { text, empty } = elements(xml);
    expect(text.executable).toEqual([spec.nodePath]);
    expect(text.workingdirectory).toEqual([dir]);
    expect(parseWindowsCommandLine(text.arguments?.[0] as string)).toEqual([spec.scriptPath, 'start']);
    expect(empty.find((e) => e.tag === 'env')?.value).toBe(spec.home);
    expect(winswHome(xml)).toBe(spec.home);
  });

  it('gives back the data folder it pinned, whatever its characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (name) => {
        fc.pre(!/[\u0000-\u001f\u007f%"]/.test(name));
        const home = `C:\\data\\${name}`;
        expect(winswHome(renderWinswXml({ ...SPEC, home }))).toBe(home);
      }),
    );
    expect(winswHome('<service><id>x</id></service>')).toBeUndefined();
  });

  it('refuses %, " and control characters, which WinSW or Windows would read otherwise', () => {
    const refusals: [Partial<ServiceSpec>, string][] = [
      [
        { home: 'C:\\100%\\data' },
        'the data folder path holds a "%", which WinSW would read as an environment variable: C:\\100%\\data; use a folder without "%"',
      ],
      [
        { installDir: 'C:\\%TEMP%' },
        'the install folder path holds a "%", which WinSW would read as an environment variable: C:\\%TEMP%; use a folder without "%"',
      ],
      [{ nodePath: 'C:\\a"b\\node.exe' }, 'the node path holds a double quote, which a Windows path cannot: C:\\a"b\\node.exe'],
      [{ scriptPath: 'C:\\a\r\nb\\trade-relay.js' }, 'the program path holds a control character: "C:\\\\a\\r\\nb\\\\trade-relay.js"'],
    ];
    for (const [change, message] of refusals) {
      expect(() => renderWinswXml({ ...SPEC, ...change })).toThrow(new ServiceDefinitionError(message));
    }
  });
});

describe('quoteWindowsArg', () => {
  it('quotes as CommandLineToArgvW reads back: spaces, quotes, backslashes before a quote and at the end', () => {
    expect(quoteWindowsArg('C:\\Program Files\\x.js')).toBe('"C:\\Program Files\\x.js"');
    expect(quoteWindowsArg('C:\\dir\\')).toBe('"C:\\dir\\\\"');
    expect(quoteWindowsArg('a\\"b')).toBe('"a\\\\\\"b"');
    expect(quoteWindowsArg('')).toBe('""');
  });

  it('round-trips any arguments', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '\\', '"', '\t', 'é') }), { minLength: 1, maxLength: 4 }), (args) => {
        expect(parseWindowsCommandLine(args.map(quoteWindowsArg).join(' '))).toEqual(args);
      }),
    );
  });
});
