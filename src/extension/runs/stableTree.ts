/**
 * Node objects that outlive a rescan, for a TreeDataProvider that is rebuilt from disk.
 *
 * VS Code's extension host maps the handle of a clicked tree item back to the node object it
 * was given. Firing `onDidChangeTreeData(undefined)` drops that map until the tree has fetched
 * its children again, and an inline action clicked in between reaches its command with no
 * argument. So a rescan whose shape (ids and their order) is unchanged keeps the node objects,
 * copies the new data into them, and reports only the nodes that look different; only a change
 * of shape refreshes the whole tree. Pure (no `vscode`), so it is unit-tested.
 */

export interface TreeShape<T> {
  /** Stable identity (the TreeItem id). */
  id(node: T): string;
  /** Everything the row shows (label, description, icon, context value, tooltip), as a string. */
  look(node: T): string;
  /** The children built from a node's data. */
  children(node: T): T[];
}

/** What a rescan changed: the whole tree, or these nodes only (possibly none). */
export type TreeChange<T> = { all: true } | { all: false; nodes: T[] };

const ROOT = '';

export class StableTree<T extends object> {
  private nodes = new Map<string, T>();
  private kids = new Map<string, string[]>();
  private looks = new Map<string, string>();

  constructor(private readonly shape: TreeShape<T>) {}

  /** The children of `node` (the roots when undefined), as the node objects first handed out. */
  children(node?: T): T[] {
    const ids = this.kids.get(node === undefined ? ROOT : this.shape.id(node)) ?? [];
    return ids.map((id) => this.nodes.get(id)).filter((n): n is T => n !== undefined);
  }

  /** Takes a freshly built set of roots and says what the view must redraw. */
  update(roots: T[]): TreeChange<T> {
    const nodes = new Map<string, T>();
    const kids = new Map<string, string[]>([[ROOT, roots.map((n) => this.shape.id(n))]]);
    const looks = new Map<string, string>();
    const visit = (node: T): void => {
      const id = this.shape.id(node);
      const children = this.shape.children(node);
      nodes.set(id, node);
      looks.set(id, this.shape.look(node));
      kids.set(id, children.map((c) => this.shape.id(c)));
      children.forEach(visit);
    };
    roots.forEach(visit);

    if (!sameShape(this.kids, kids)) {
      [this.nodes, this.kids, this.looks] = [nodes, kids, looks];
      return { all: true };
    }
    const changed: T[] = [];
    for (const [id, fresh] of nodes) {
      const kept = this.nodes.get(id)!;
      // Every kept node gets the new data (commands read it); only changed looks are redrawn.
      for (const key of Object.keys(kept)) if (!(key in fresh)) delete (kept as Record<string, unknown>)[key];
      Object.assign(kept, fresh);
      if (this.looks.get(id) !== looks.get(id)) changed.push(kept);
    }
    this.looks = looks;
    return { all: false, nodes: changed };
  }
}

function sameShape(a: Map<string, string[]>, b: Map<string, string[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, ids] of a) {
    const other = b.get(id);
    if (!other || other.length !== ids.length || other.some((x, i) => x !== ids[i])) return false;
  }
  return true;
}
