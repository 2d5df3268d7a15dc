import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('`pnpm start` runs the built demo to the end', () => {
  const out = execFileSync(process.execPath, ['dist/index.js'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  expect(out).toContain('room "general" holds up to 100 members');
  expect(out).toContain('field "maxMembers": createRoom: maxMembers must be a positive integer, got -1');
  expect(out).toContain('hashes the same: true');
  expect(out).toContain('event on perf:cache:hit');
  expect(out).not.toContain('unobserved');
  expect(out.trim().endsWith('demo done')).toBe(true);
});
