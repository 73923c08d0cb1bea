/**
 * Polling that costs nothing while the tab is hidden and never overlaps itself.
 */

/**
 * Call `tick` now and then every `intervalMs` after the previous call ended, only while the
 * page is visible; when the page becomes visible again it ticks at once.
 * `tick` may return (or resolve to) a number: the delay before the next call instead of `intervalMs`.
 * An error in `tick` is passed to `onError` and polling goes on.
 * @param {function(): (number|void|Promise<number|void>)} tick
 * @param {number} intervalMs
 * @param {function(Error): void} [onError]
 * @returns {function(): void} stop; its `wake()` ticks now (after the call in flight, if any)
 *   instead of waiting for the delay
 */
export function startPolling(tick, intervalMs, onError = () => {}) {
  let timer = null;
  let running = false;
  let stopped = false;
  let wanted = false;

  async function run() {
    timer = null;
    if (stopped || running) return;
    if (document.visibilityState !== "visible") return;
    running = true;
    let delay = intervalMs;
    try {
      const asked = await tick();
      if (typeof asked === "number") delay = asked;
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
    if (wanted) {
      wanted = false;
      delay = 0;
    }
    if (!stopped && timer === null) timer = setTimeout(run, delay);
  }

  function onVisibility() {
    if (document.visibilityState === "visible" && timer === null && !running) run();
  }

  document.addEventListener("visibilitychange", onVisibility);
  run();
  function stop() {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  }
  // NOTE: a property of the stop function, so views can return what startPolling returns as their dispose.
  stop.wake = () => {
    if (stopped) return;
    if (running) {
      wanted = true;
      return;
    }
    if (timer !== null) clearTimeout(timer);
    run();
  };
  return stop;
}
