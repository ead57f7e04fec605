/** Every disposable of a panel in one place, disposed together (last added first). */
export interface Disposable {
  dispose(): unknown;
}

export class DisposableStore implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  /** A timer as a disposable. */
  interval(fn: () => void, ms: number): void {
    const id = setInterval(fn, ms);
    this.add({ dispose: () => clearInterval(id) });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.items.reverse()) {
      try {
        item.dispose();
      } catch {
        // keep disposing the rest
      }
    }
    this.items = [];
  }
}
