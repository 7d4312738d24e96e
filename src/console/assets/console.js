// Trade Relay console: live updates over Server-Sent Events. Every text from the relay is
// user-controlled (relay_id, reason, alert): it is set with textContent only, never as markup.

(() => {
  const page = document.body.dataset.page;
  const liveState = document.getElementById('live-state');

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function holdLeft(until) {
    const seconds = Math.ceil((until - Date.now()) / 1000);
    if (seconds <= 0) return '–';
    return seconds >= 60 ? `${Math.floor(seconds / 60)} m ${seconds % 60} s` : `${seconds} s`;
  }

  function tickHolds() {
    for (const cell of document.querySelectorAll('.hold[data-until]')) cell.textContent = holdLeft(Number(cell.dataset.until));
  }

  function connect(after, onRow) {
    const source = new EventSource(`/console/events?after=${encodeURIComponent(after)}`);
    source.addEventListener('row', (event) => onRow(JSON.parse(event.data)));
    source.addEventListener('open', () => {
      if (liveState) {
        liveState.textContent = 'live';
        liveState.classList.remove('off');
      }
    });
    source.addEventListener('error', () => {
      if (liveState) {
        liveState.textContent = 'reconnecting';
        liveState.classList.add('off');
      }
    });
  }

  function cell(label, text, className) {
    const td = el('td', text, className);
    td.dataset.label = label;
    return td;
  }

  function nowRow(r) {
    const tr = el('tr');
    tr.append(cell('User', r.relay_user), cell('Account', r.account), cell('Instrument', r.instrument), cell('Owner', r.owner));
    const direction = cell('Direction');
    direction.append(el('span', r.quantity === null ? r.direction : `${r.direction} ${r.quantity}`, `dir-${r.direction}`));
    if (r.doubt) direction.append(' ', el('span', r.doubt, 'doubt'));
    tr.append(direction, cell('Since', r.opened_at.replace('T', ' ').slice(0, 19)));
    const hold = cell('Hold left', holdLeft(r.hold_until_ms), 'hold');
    hold.dataset.until = String(r.hold_until_ms);
    tr.append(hold);
    const last = cell('Last decision');
    if (r.last)
      last.append(
        el('span', r.last.decision, `decision d-${r.last.decision}`),
        ' ',
        el('span', `${r.last.relay_id ?? ''} ${r.last.time.slice(11, 19)}`, 'muted'),
      );
    tr.append(last);
    const form = document.getElementById('clear-form').content.firstElementChild.cloneNode(true);
    form.elements.relay_user.value = r.relay_user;
    form.elements.account.value = r.account;
    form.elements.instrument.value = r.instrument_key;
    const actions = el('td');
    actions.append(form);
    tr.append(actions);
    return tr;
  }

  function startNow() {
    const table = document.getElementById('now-table');
    const body = document.getElementById('now-rows');
    let pending = null;
    const refresh = async () => {
      pending = null;
      const response = await fetch('/console/now.json', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (response.status === 401) return window.location.assign('/console/login');
      if (!response.ok) return;
      const data = await response.json();
      body.replaceChildren(...data.rows.map(nowRow));
      document.getElementById('now-empty').hidden = data.rows.length > 0;
    };
    connect(table.dataset.lastId, () => {
      // A burst of alerts is one refresh.
      if (pending === null) pending = setTimeout(refresh, 150);
    });
  }

  function logItem(r) {
    const li = el('li');
    li.dataset.id = String(r.id);
    const details = el('details');
    const summary = el('summary');
    summary.append(
      el('span', r.time.replace('T', ' ').slice(0, 19), 'time'),
      ' ',
      el('span', r.decision, `decision d-${r.decision}`),
      ' ',
      el('span', `${r.relay_user ?? '-'} / ${r.relay_id ?? '-'}`, 'who'),
      ' ',
      el('span', `${r.signal_type ?? ''} ${r.account ?? ''} ${r.instrument ?? ''}`, 'what'),
    );
    const list = el('dl');
    const alertDd = el('dd');
    alertDd.append(el('pre', r.alert, 'alert'));
    const meta = `${r.api_check ?? ''} ${r.upstream_status ?? ''} ${r.latency_ms === null ? '' : `${r.latency_ms} ms`}`;
    list.append(el('dt', 'Reason'), el('dd', r.reason, 'reason'), el('dt', 'Alert (secrets removed)'), alertDd, el('dt', 'CrossTrade'), el('dd', meta, 'meta'));
    details.append(summary, list);
    li.append(details);
    return li;
  }

  function startLog() {
    const list = document.getElementById('log-rows');
    if (list.dataset.live !== '1') return;
    const { user, strategy, decision } = list.dataset;
    connect(list.dataset.lastId, (r) => {
      if ((user && r.relay_user !== user) || (strategy && r.relay_id !== strategy) || (decision && r.decision !== decision)) return;
      const item = logItem(r);
      const existing = list.querySelector(`li[data-id="${Number(r.id)}"]`);
      if (existing) {
        // A pending row completed: keep it open if it was.
        item.firstElementChild.open = existing.firstElementChild.open;
        existing.replaceWith(item);
      } else {
        list.prepend(item);
      }
      document.getElementById('log-empty').hidden = true;
    });
  }

  if (page === 'now') {
    startNow();
    tickHolds();
    setInterval(tickHolds, 1000);
  }
  if (page === 'log') startLog();
})();
