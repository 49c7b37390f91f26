/**
 * Progress and cancellation for the long loops (sampling, NLL): they yield to the event loop between
 * steps so a worker can receive "cancel" while it runs.
 */

export interface LoopControl {
  /** Called after each step with the number of steps done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the loop before its next step with an AbortError. */
  signal?: AbortSignal;
}

export class LoopCancelled extends Error {
  constructor(what: string) {
    super(`${what} was cancelled`);
    this.name = 'AbortError';
  }
}

/** Throws when cancelled; otherwise lets pending I/O (messages, timers) run. */
export async function checkpointLoop(control: LoopControl | undefined, what: string): Promise<void> {
  if (control?.signal?.aborted) throw new LoopCancelled(what);
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (control?.signal?.aborted) throw new LoopCancelled(what);
}
