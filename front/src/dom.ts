type Child = Node | string | false | null | undefined;

/**
 * Creates an element. Strings become text nodes and attributes go through setAttribute, so nothing
 * a user typed is ever parsed as HTML: there is no innerHTML anywhere in this app.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** Replaces an element's children, skipping the falsy ones (conditional parts). */
export function fill(element: HTMLElement, ...children: Child[]): void {
  element.replaceChildren(
    ...children.filter((child): child is Node | string => child !== false && child !== null && child !== undefined),
  );
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

/**
 * Brings `container`'s children in line with `items`, reusing each item's element (matched by
 * `data-key`) so that focus, scroll position and screen-reader context survive an update.
 * `render` gets the existing element, if any, and returns the element to place.
 */
export function reconcile<T>(
  container: HTMLElement,
  items: readonly T[],
  keyOf: (item: T) => string,
  render: (item: T, existing: HTMLElement | undefined) => HTMLElement,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(container.children)) {
    if (child instanceof HTMLElement && child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  const keep = new Set<HTMLElement>();
  let cursor: Element | null = container.firstElementChild;
  for (const item of items) {
    const key = keyOf(item);
    const element = render(item, existing.get(key));
    element.dataset.key = key;
    keep.add(element);
    if (element === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      container.insertBefore(element, cursor);
    }
  }
  for (const child of Array.from(container.children)) {
    if (child instanceof HTMLElement && !keep.has(child)) child.remove();
  }
}
