/** At most `size` holders at once; the others wait their turn, in order. */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Waits for a slot; the function returned gives it back (once). */
  async acquire(): Promise<() => void> {
    if (this.used >= this.size) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.used++;
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next === undefined) this.used--;
      else next();
    };
  }
}
