/**
 * Event plumbing for views: subscribe for the component's lifetime, and coalesce bursts of events into
 * one update per animation frame (a fast run can send dozens of metric rows a second; the DOM and the
 * charts only need to change once per frame).
 */
import type { StudioEvent } from '../../../src-shared/protocol';
import { api } from './app.svelte';

/** Subscribe to studio events; call inside $effect so the subscription ends with the component. */
export function onStudioEvent(handler: (e: StudioEvent) => void): () => void {
  return api().subscribe(handler);
}

/**
 * Returns `schedule()`: calling it any number of times within a frame runs `flush` once, on the next
 * animation frame. `cancel()` drops a pending flush (component teardown).
 */
export function frameThrottle(flush: () => void): { schedule: () => void; cancel: () => void } {
  let handle: number | null = null;
  return {
    schedule() {
      if (handle !== null) return;
      handle = requestAnimationFrame(() => {
        handle = null;
        flush();
      });
    },
    cancel() {
      if (handle !== null) cancelAnimationFrame(handle);
      handle = null;
    },
  };
}
