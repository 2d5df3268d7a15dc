/** Combining AbortSignals. */

/**
 * A signal that aborts when either input does. `AbortSignal.any` where the runtime has it (Node
 * 20.3+), otherwise a linked controller.
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  if (a.aborted) return a;
  if (b.aborted) return b;
  const controller = new AbortController();
  const onA = () => {
    b.removeEventListener('abort', onB);
    controller.abort(a.reason);
  };
  const onB = () => {
    a.removeEventListener('abort', onA);
    controller.abort(b.reason);
  };
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return controller.signal;
}
