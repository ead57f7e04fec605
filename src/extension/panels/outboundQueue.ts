/**
 * Host → webview delivery with buffering. A panel's page can only receive messages once it
 * has loaded (it says `ready`) and while it is visible; anything sent otherwise waits here and
 * is flushed when the panel is shown again. A (re)loaded page first gets a full snapshot,
 * which supersedes whatever was waiting; a queue that grew past `maxPending` is also replaced
 * by a snapshot. Pure: no `vscode`.
 */
export class OutboundQueue<M> {
  private pending: M[] = [];
  private overflowed = false;
  private loaded = false;
  private visible: boolean;

  constructor(
    private readonly post: (message: M) => void,
    private readonly snapshot: () => M,
    initiallyVisible: boolean,
    private readonly maxPending = 2000,
  ) {
    this.visible = initiallyVisible;
  }

  send(message: M): void {
    if (this.loaded && this.visible) {
      this.post(message);
    } else if (!this.overflowed) {
      this.pending.push(message);
      if (this.pending.length > this.maxPending) {
        this.pending = [];
        this.overflowed = true;
      }
    }
  }

  /** The page (re)loaded: it starts from a snapshot. */
  ready(): void {
    this.loaded = true;
    this.pending = [];
    this.overflowed = false;
    if (this.visible) this.post(this.snapshot());
    else this.overflowed = true; // shown later: send the snapshot then
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.loaded) this.flush();
  }

  /** Messages waiting for the panel (for tests and diagnostics). */
  get waiting(): number {
    return this.overflowed ? Number.POSITIVE_INFINITY : this.pending.length;
  }

  private flush(): void {
    if (this.overflowed) {
      this.overflowed = false;
      this.pending = [];
      this.post(this.snapshot());
      return;
    }
    const messages = this.pending;
    this.pending = [];
    for (const m of messages) this.post(m);
  }
}
