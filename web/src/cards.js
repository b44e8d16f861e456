// Building blocks shared by dashboards (api.charts): a card per (run, tag) that loads its data
// when it scrolls into view, a step-slider card, a keyed set of cards grouped in sections.
import { el, noEventFiles, runColor, scheduleDraw, state, unwatch, watch } from './state.js';

// A card of one run's tag: fetches `api.fetchJSON(route, {run, tag, ...params()})` when visible
// and stale, then draw() (subclasses) renders this.data into this.body.
export class Card {
  constructor(api, run, tag, { route = 'points', kind = api.name } = {}) {
    this.api = api;
    this.run = run;
    this.tag = tag;
    this.kind = kind;
    this.route = route;
    this.visible = false;
    this.stale = true;
    this.data = null;
    this.el = el('div', { class: `card ${kind}-card` });
    this.el.dataset.run = run;
    this.el.dataset.tag = tag;
    const head = el('div', { class: 'card-head' });
    const sw = el('span', { class: 'swatch' });
    sw.style.background = runColor(run);
    head.append(sw, el('span', { class: 'card-title', text: tag }), el('span', { class: 'card-run', text: run }));
    this.body = el('div', { class: 'card-body' });
    this.el.append(head, this.body);
    this.el.__chart = this;
  }

  async load() {
    this.stale = false;
    try {
      this.data = await this.api.fetchJSON(this.route, { run: this.run, tag: this.tag, ...this.params() });
    } catch (e) {
      this.body.replaceChildren(el('div', { class: 'error', text: e.message }));
      return;
    }
    this.el.dataset.loaded = 'true';
    scheduleDraw(this, true);
  }

  params() { return {}; }

  draw() {}

  empty() {
    const pts = this.data ? this.data.points : [];
    if (pts && pts.length) return false;
    this.body.replaceChildren(el('div', { class: 'empty', text: 'no data' }));
    return true;
  }
}

// A card showing one step at a time (this.data.points), with a slider that follows the newest
// step until moved; subclasses return the step's nodes from media(point).
export class SliderCard extends Card {
  constructor(api, run, tag, opts) {
    super(api, run, tag, opts);
    this.follow = true;
  }

  draw() {
    if (this.empty()) return;
    const pts = this.data.points;
    if (this.pos == null || this.pos >= pts.length || this.follow) this.pos = pts.length - 1;
    const label = el('span', { class: 'step-label' });
    const slider = el('input', { type: 'range', min: '0', max: String(pts.length - 1), value: String(this.pos), class: 'step-slider' });
    const media = el('div', { class: 'media' });
    const show = () => {
      const p = pts[this.pos];
      label.textContent = `step ${p.step}  (${this.pos + 1}/${pts.length})`;
      this.el.dataset.step = String(p.step);
      media.replaceChildren(...this.media(p));
    };
    slider.addEventListener('input', () => {
      this.pos = Number(slider.value);
      this.follow = this.pos === pts.length - 1;
      show();
    });
    show();
    this.body.replaceChildren(el('div', { class: 'slider-row' }, slider, label), media);
  }

  media() { return []; }
}

export function groupOf(tag) {
  const i = tag.indexOf('/');
  return i > 0 ? tag.slice(0, i) : '(no prefix)';
}

// A collapsible section: [details element, grid element to append cards to].
export function section(title, count, open = true) {
  const d = el('details', { class: 'group' });
  d.dataset.group = title;
  if (open) d.setAttribute('open', '');
  d.append(el('summary', {}, el('span', { text: title }), el('span', { class: 'count', text: ` ${count}` })));
  const grid = el('div', { class: 'grid' });
  d.append(grid);
  return [d, grid];
}

// The dashboard's "nothing to show" line.
export function emptyDashboard() {
  let text = state.loaded ? 'No data for this dashboard (check the filters).' : 'Reading the logdir…';
  if (state.loaded && !state.runs.length) text = noEventFiles();
  return el('div', { class: 'empty-dash', text });
}

export function openFull(src, title) {
  const dlg = el('div', { class: 'overlay', role: 'dialog' });
  const img = el('img', { src, class: 'full', alt: title });
  dlg.append(el('div', { class: 'overlay-title', text: title }), img);
  dlg.addEventListener('click', () => dlg.remove());
  document.body.append(dlg);
}

// The cards of one dashboard, kept across re-renders by key (so a re-render after a filter
// change does not refetch), watched for visibility, reacting to the page's changes.
export class CardSet {
  constructor() { this.cards = new Map(); }

  // items: [[key, make]] -> the cards in that order (made when new, reused otherwise).
  sync(items) {
    const next = new Map();
    for (const [key, make] of items) next.set(key, this.cards.get(key) || make());
    for (const [k, c] of this.cards) if (!next.has(k)) unwatch(c);
    for (const [k, c] of next) if (!this.cards.has(k)) watch(c);
    this.cards = next;
    return [...next.values()];
  }

  // items: [[key, group title, make]] -> <details> sections, one per group, in first-seen order.
  sections(items) {
    const cards = this.sync(items.map(([k, , make]) => [k, make]));
    const groups = new Map();
    items.forEach(([, g], i) => {
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(cards[i]);
    });
    return [...groups].map(([g, cs]) => {
      const [d, grid] = section(g, cs.length);
      grid.append(...cs.map((c) => c.el));
      return d;
    });
  }

  restale() {
    for (const c of this.cards.values()) {
      c.stale = true;
      if (c.visible) c.load();
    }
  }

  redraw() {
    for (const c of this.cards.values()) {
      if (c.visible) c.draw();
      else c.stale = true;
    }
  }

  // The usual reaction to a page change (see docs/plugins.md for the change kinds). Charts
  // that ask the server by selection (ScalarChart) reload when the selection changes.
  react(change) {
    const cards = [...this.cards.values()];
    const reload = (c) => { c.stale = true; if (c.visible) c.load(); };
    switch (change.kind) {
      case 'legend':
        for (const c of cards) {
          if (c.series) reload(c);
          else if (c.visible) c.draw();
          else c.stale = true;
        }
        break;
      case 'settings':
        if (change.key === 'xaxis') for (const c of cards) c.zoom = null;
        if (change.key === 'smoothing' || change.key === 'xaxis') this.restale();
        else if (['rank', 'limit', 'group'].includes(change.key)) for (const c of cards) { if (c.series) reload(c); }
        else this.redraw();
        break;
      case 'filter':
        if (change.what === 'run') this.restale();
        break;
      case 'resize':
        for (const c of cards) if (c.resize) c.resize();
        break;
      case 'tags': // runs appeared or vanished: charts showing another set of runs reload
        for (const c of cards) if (c.runsChanged && c.runsChanged()) { c.stale = true; if (c.visible) c.load(); }
        break;
      case 'scalars': {
        const tags = new Set(change.series.map((d) => d.tag));
        for (const c of cards) {
          if (!c.series || !c.spec.tags.some((t) => tags.has(t))) continue;
          for (const d of change.series) if (c.spec.tags.includes(d.tag)) c.delta(d);
          if (c.stale && c.visible) c.load();
        }
        break;
      }
      case 'data':
        for (const d of change.series) {
          for (const c of cards) {
            if (c.run === d.run && c.tag === d.tag) { c.stale = true; if (c.visible) c.load(); }
          }
        }
        break;
      default:
    }
  }

  destroy() {
    for (const c of this.cards.values()) unwatch(c);
    this.cards = new Map();
  }
}

// Runs a dashboard of per-run cards or views shows at most (the rest: see limitRuns).
export const CARD_RUNS = 50;

// Which of many runs a dashboard shows: pinned runs first, then the others in the run list's
// order (the sidebar's: sorted by name), from `offset` on, at most `limit`:
// {shown: [run], total, pinned: pinned runs shown, offset}.
export function limitRuns(runs, limit = CARD_RUNS, offset = 0) {
  const pins = runs.filter((r) => state.pinned.has(r));
  const ordered = pins.length ? [...pins, ...runs.filter((r) => !state.pinned.has(r))] : runs;
  const from = Math.max(0, Math.min(offset, Math.max(0, ordered.length - 1)));
  const shown = ordered.slice(from, from + limit);
  const pinned = shown.filter((r) => state.pinned.has(r)).length;
  return { shown, total: ordered.length, pinned, offset: from };
}

const num = (n) => n.toLocaleString('en-US');

// The notice of a limited dashboard, worded as the scalar charts' ("showing 50 of 2,000 runs:
// the first 50 in the run list"); '' when every run is shown.
export function runsNotice({ shown, total, pinned, offset = 0 }) {
  const n = shown.length;
  if (n >= total) return '';
  if (offset > 0) {
    return `showing ${num(n)} of ${num(total)} runs: numbers ${num(offset + 1)} to ${num(offset + n)} `
      + 'in the run list (pinned runs first)';
  }
  const text = `showing ${num(n)} of ${num(total)} runs: the first ${num(n - pinned)} in the run list`;
  return pinned ? `${text}, and ${num(pinned)} pinned` : text;
}

// The notice element: its text, and controls (buttons [text, title, onClick]) to see others.
export function noticeBox(text, buttons = []) {
  const box = el('div', { class: 'chart-notice runs-notice' });
  box.dataset.notice = text;
  if (!text) return box;
  box.append(el('span', { class: 'notice-text', text }));
  for (const [label, title, fn] of buttons) {
    const b = el('button', { type: 'button', class: 'notice-more', text: label, title });
    b.addEventListener('click', fn);
    box.append(b);
  }
  box.append(el('span', { class: 'notice-hint', text: 'pin or select runs (Runs tab, sidebar) to choose which' }));
  return box;
}

// A whole dashboard of one card per (run, tag) of the plugin's tags for the selected runs,
// grouped by tag prefix; each group shows at most `limit` runs (limitRuns: pinned first, then
// the run list's order) and says so, with a control to show more:
// render(root, api) { return cardDashboard(root, api, (run, tag) => new MyCard(api, run, tag)); }
export function cardDashboard(root, api, make, { limit = CARD_RUNS } = {}) {
  const cards = new CardSet();
  const more = new Map(); // group -> runs shown beyond `limit` ("show more")
  function build() {
    const tags = api.tags();
    const groups = new Map(); // group -> [[run, [tag]]], runs in the run list's order
    for (const run of api.runs()) {
      const byGroup = new Map();
      for (const tag of Object.keys(tags[run] || {})) {
        const g = groupOf(tag);
        if (!byGroup.has(g)) byGroup.set(g, []);
        byGroup.get(g).push(tag);
      }
      for (const [g, ts] of byGroup) {
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g).push([run, ts]);
      }
    }
    const items = [];
    const notices = new Map();
    for (const [g, list] of groups) {
      const cap = limit + (more.get(g) || 0);
      const lim = limitRuns(list.map(([r]) => r), cap);
      const tagsOf = new Map(list);
      for (const run of lim.shown) for (const tag of tagsOf.get(run)) items.push([`${run}\0${tag}`, g, () => make(run, tag)]);
      const step = Math.min(limit, lim.total - lim.shown.length);
      notices.set(g, noticeBox(runsNotice(lim), step > 0 ? [[`show ${num(step)} more`, 'show the next runs of this group',
        () => { more.set(g, (more.get(g) || 0) + step); build(); }]] : []));
    }
    const nodes = cards.sections(items);
    for (const d of nodes) {
      const box = notices.get(d.dataset.group);
      if (box && box.dataset.notice) d.querySelector('summary').after(box);
    }
    root.replaceChildren(...(nodes.length ? nodes : [emptyDashboard()]));
  }
  build();
  return {
    cards,
    update(change) {
      if (change.kind === 'filter' || change.kind === 'tags' || change.kind === 'legend') build();
      cards.react(change);
    },
    destroy() { cards.destroy(); },
  };
}
