/**
 * The CLI a newcomer meets: every command and every `node` subcommand answers --help with exit 0,
 * a usage line and an example; a bad option or an unknown command exits 2 and says what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commandNames } from '../../src/cli/main.js';
import { subcommandsWithHelp } from '../../src/cli/help.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

void test('sharehold --help lists every command with one line each and the exit codes', () => {
  const r = cli(['--help']);
  assert.equal(r.code, 0);
  for (const name of commandNames()) assert.match(r.out, new RegExp(`^  ${name} +\\S`, 'm'), name);
  assert.match(r.out, /Exit codes: 0 success; 1 .*; 2 bad command/s);
});

void test('every command answers --help with a usage line and an example', () => {
  for (const name of commandNames()) {
    const r = cli([name, '--help']);
    assert.equal(r.code, 0, `${name} --help exit code; stderr: ${r.err}`);
    assert.match(r.out, /usage: sharehold/i, `${name}: usage line`);
    assert.match(r.out, /examples?\b[^\n]*:\s*(npx )?sharehold /i, `${name}: an example`);
  }
});

void test('every node subcommand answers --help with its own usage and an example', () => {
  const subs = subcommandsWithHelp('node');
  assert.ok(subs.length >= 10);
  for (const sub of subs) {
    const r = cli(['node', sub, '--help']);
    assert.equal(r.code, 0, `node ${sub} --help`);
    assert.match(r.out, new RegExp(`usage: sharehold node ${sub}`), `node ${sub}: usage`);
    assert.match(r.out, new RegExp(`Example:\\n {2}npx sharehold node ${sub}`), `node ${sub}: example`);
  }
});

void test('a bad option exits 2 and names the option and the help to read', () => {
  const r = cli(['node', 'init', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.err, /Unknown option '--bogus'/);
  assert.match(r.err, /sharehold node init --help/);
  const run = cli(['run', 'x.yaml', '--bogus']);
  assert.equal(run.code, 2);
  assert.match(run.err, /Unknown option '--bogus'/);
});

void test('an unknown command exits 2 and lists the commands', () => {
  const r = cli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "frobnicate"/);
  assert.match(r.err, /commands:/);
});
