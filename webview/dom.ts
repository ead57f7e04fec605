/** A tiny DOM builder: `h('div', { class: 'x', 'data-testid': 'y', onclick: fn }, child, 'text')`. */
export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replace all children of an element. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A labelled range input (0 … max) that reports its value; used for smoothing. */
export function slider(label: string, testId: string, value: number, max: number, step: number, onInput: (v: number) => void): HTMLElement {
  const shown = h('span', { class: 'value' }, value.toFixed(2));
  const input = h('input', { type: 'range', min: 0, max, step, value, 'data-testid': testId, 'aria-label': label });
  input.addEventListener('input', () => {
    const v = Number(input.value);
    shown.textContent = v.toFixed(2);
    onInput(v);
  });
  return h('label', {}, label, input, shown);
}

/** A vscode-elements checkbox with a label. */
export function checkbox(label: string, testId: string, checked: boolean, onChange: (checked: boolean) => void): HTMLElement {
  const box = h('vscode-checkbox', { 'data-testid': testId, checked, label }) as HTMLElement & { checked: boolean };
  box.addEventListener('change', () => onChange(box.checked));
  return box;
}

export function button(label: string, testId: string, onClick: () => void, opts: { secondary?: boolean; title?: string; disabled?: boolean } = {}): HTMLElement {
  return h('vscode-button', { 'data-testid': testId, secondary: opts.secondary, title: opts.title, disabled: opts.disabled, onclick: () => onClick() }, label);
}

/** A vscode-elements single select; `options` are [value, label] pairs. */
export function select(label: string, testId: string, options: readonly [string, string][], value: string, onChange: (value: string) => void): HTMLElement {
  const sel = h('vscode-single-select', { 'data-testid': testId, 'aria-label': label }) as HTMLElement & { value: string };
  for (const [v, text] of options) sel.append(h('vscode-option', { value: v, selected: v === value }, text));
  sel.addEventListener('change', () => onChange(sel.value));
  return h('label', {}, label, sel);
}

/** Coalesces bursts of `schedule()` calls into one `fn()` on the next animation frame. */
export class FrameScheduler {
  private frame = 0;

  constructor(private readonly fn: () => void) {}

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.fn();
    });
  }

  cancel(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
