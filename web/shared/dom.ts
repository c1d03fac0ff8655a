/**
 * A few helpers that build the DOM from nodes and text only: no HTML string ever reaches the page, so
 * the pages work under `require-trusted-types-for 'script'` and nothing a server returns can become markup.
 */
export type Child = Node | string | number | null | undefined | false;
type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A unique id, for tying a label to its input. */
export const uid = (prefix: string) => `${prefix}-${++ids}`;

export interface FieldOptions extends Props {
  hint?: string;
}

/** A labelled input (the label is visible and names the input for assistive technology and tests). */
export function field(label: string, options: FieldOptions = {}): { row: HTMLElement; input: HTMLInputElement } {
  const { hint, ...attrs } = options;
  const id = uid('f');
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h('input', { id, name: id, type: 'text', 'aria-describedby': hintId, ...attrs });
  const row = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input,
  );
  return { row, input };
}

/** A checkbox with its label after it. */
export function checkbox(label: string): { row: HTMLElement; input: HTMLInputElement } {
  const id = uid('c');
  const input = h('input', { id, type: 'checkbox' });
  return { row: h('div', { class: 'check' }, input, h('label', { for: id }, label)), input };
}

export function button(label: string, onClick?: Handler, kind: 'primary' | 'secondary' | 'danger' = 'secondary') {
  return h('button', { type: onClick ? 'button' : 'submit', class: `btn ${kind}`, onclick: onClick }, label);
}

/**
 * A message area: errors are announced at once (role=alert), other news politely (role=status).
 * Empty until something is said.
 */
export function messageArea() {
  const el = h('div', { class: 'messages' });
  return {
    el,
    error(...text: Child[]) {
      replace(el, h('p', { class: 'error', role: 'alert' }, ...text));
    },
    info(...text: Child[]) {
      replace(el, h('p', { class: 'info', role: 'status' }, ...text));
    },
    clear() {
      el.replaceChildren();
    },
  };
}
export type Messages = ReturnType<typeof messageArea>;

/** A section of a page with its heading, which names it as a region. */
export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  const id = uid('s');
  return h(
    'section',
    { 'aria-labelledby': id, class: 'card', id: slug(title), tabindex: -1 },
    h('h2', { id }, title),
    ...children,
  );
}

/** A secret shown once, as text that can be selected and copied, with a button that copies it. */
export function secretText(label: string, value: string): HTMLElement {
  const id = uid('secret');
  const status = h('span', { class: 'hint', role: 'status' });
  const copy = button('Copy', () => {
    // The clipboard is only offered to secure contexts (https, or this machine).
    if (!navigator.clipboard) {
      replace(status, 'Select the text and copy it yourself.');
      return;
    }
    navigator.clipboard.writeText(value).then(
      () => replace(status, 'Copied.'),
      () => replace(status, 'Select the text and copy it yourself.'),
    );
  });
  return h(
    'div',
    { class: 'secret' },
    h('p', { id, class: 'secret-label' }, label),
    h('code', { 'aria-labelledby': id, class: 'selectable' }, value),
    h('div', { class: 'actions' }, copy, status),
  );
}

export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'never';

/** The product's name, on every page beside the page's own title. */
export const PRODUCT = 'Identity service';

/** The document's title: the view's own, then the product. */
export const setTitle = (title: string) => {
  document.title = `${title} · ${PRODUCT}`;
};

/**
 * The navigation between a page's sections: one link per section, kept in view (sticky) and on one row
 * that scrolls sideways on a phone, so that every section is one tap or click away on any screen.
 */
export function sectionNav(sections: HTMLElement[], label = 'Sections'): HTMLElement {
  return h(
    'nav',
    { class: 'sections', 'aria-label': label },
    h(
      'ul',
      null,
      sections.map((s) => h('li', null, h('a', { href: `#${s.id}` }, s.querySelector('h2')?.textContent ?? s.id))),
    ),
  );
}

/** A slug for a section's id, from its title: "Where you are signed in" is `where-you-are-signed-in`. */
export const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
