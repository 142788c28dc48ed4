/**
 * Gathers what is added in one turn of the event loop into batches of `max` at most: a batch
 * goes as soon as it is full, the rest at the end of the turn (setImmediate). For calls that
 * come many at once (a sync round's files) and cost per trip, not per item.
 */
export class TurnBatch<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(
    private readonly max: number,
    private readonly send: (batch: T[]) => void,
  ) {}

  add(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.max) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.flush();
      });
    }
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) this.send(this.queue.splice(0, this.max));
  }
}
