// A windowed list of fixed-height rows (TanStack Virtual's framework-free core): only the rows
// in view (plus a few) exist in the DOM, so 10,000 runs scroll as smoothly as 10.
// new VirtualList(scrollElement, {rowHeight, render(index) -> Element, overscan})
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';
import { el } from './state.js';

export class VirtualList {
  constructor(scroller, { rowHeight = 24, render, overscan = 10, initialHeight = 400 } = {}) {
    this.scroller = scroller;
    this.rowHeight = rowHeight;
    this.render = render;
    this.inner = el('div', { class: 'vl-inner' });
    this.inner.style.position = 'relative';
    this.inner.style.width = '100%';
    scroller.append(this.inner);
    this.nodes = new Map(); // index -> row element in the DOM
    this.v = new Virtualizer({
      count: 0,
      getScrollElement: () => this.scroller,
      estimateSize: () => this.rowHeight,
      overscan,
      scrollToFn: elementScroll,
      observeElementRect,
      observeElementOffset,
      initialRect: { width: 0, height: initialHeight },
      onChange: () => this.paint(),
    });
    this.unmount = this.v._didMount();
    this.v._willUpdate();
  }

  get count() { return this.v.options.count; }

  // The rows changed: n rows now; the visible ones are rendered again.
  setCount(n) {
    this.v.setOptions({ ...this.v.options, count: n });
    this.v._willUpdate();
    this.paint(true);
  }

  // Render the rows in view (rows already rendered at the same index are kept, so a scroll
  // renders only the rows coming into view); paint(true) renders every row again.
  paint(all = false) {
    if (all) this.nodes = new Map();
    const items = this.v.getVirtualItems();
    this.inner.style.height = `${this.v.getTotalSize()}px`;
    const nodes = new Map();
    for (const it of items) {
      let node = this.nodes.get(it.index);
      if (!node) {
        node = this.render(it.index);
        node.style.position = 'absolute';
        node.style.top = '0';
        node.style.left = '0';
        node.style.right = '0';
        node.style.height = `${this.rowHeight}px`;
        node.style.transform = `translateY(${it.start}px)`;
        node.dataset.index = String(it.index);
      }
      nodes.set(it.index, node);
    }
    const same = nodes.size === this.nodes.size && [...nodes.keys()].every((k) => this.nodes.has(k));
    this.nodes = nodes;
    if (!same) this.inner.replaceChildren(...nodes.values());
  }

  scrollToIndex(i) { this.v.scrollToIndex(i); }

  destroy() {
    if (this.unmount) this.unmount();
    this.inner.remove();
  }
}
