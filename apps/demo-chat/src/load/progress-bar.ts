/** The generator's progress bar (cli-progress on stderr; a line every 2 s when stderr is not a TTY, as in CI). */
import cliProgress from 'cli-progress';
import type { Progress } from './load-generator.js';

export function progressBar(): { update(p: Progress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {phase} | {seconds}/{total_s} s | {requests} req | {errors} errors',
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = {
        phase: p.phase.padEnd(8),
        seconds: (p.elapsedMs / 1000).toFixed(0).padStart(2),
        total_s: (p.totalMs / 1000).toFixed(0),
        requests: p.requests,
        errors: p.errors,
      };
      if (!started) {
        bar.start(p.totalMs, p.elapsedMs, payload);
        started = true;
      } else bar.update(p.elapsedMs, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
