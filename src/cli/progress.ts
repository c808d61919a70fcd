/**
 * Progress bars with ETA for long CLI operations, on stderr.
 *
 * On a TTY one line is redrawn in place (`label [#####-----]  45%  12.3k/50k  ETA 0:32  note`) about
 * four times a second; lines printed with `log` appear above it. When the stream is not a TTY (a pipe,
 * a CI log) the bar prints plain lines instead: one when it starts, at most one every `plainEverySec`
 * seconds while it moves, and one when it ends — no control characters.
 *
 * A bar counts units (`update(done)`), or, for a phase whose inner progress is not observable (an epoch
 * run by other processes), estimates from time: `estimateSec` makes the bar fill with elapsed / estimate
 * (capped at 99 %, shown with `~`) until it is finished.
 */
import type { WriteStream } from 'node:tty';

export interface BarOptions {
  /** Total units; 0 or undefined with `estimateSec` for a time-based bar. */
  total?: number;
  /** Unit name shown after the counts (e.g. 'rows'). */
  unit?: string;
  /** Expected seconds: a time-based bar (no counts) and the ETA before any unit is done. */
  estimateSec?: number;
}

export interface Bar {
  update(done: number, note?: string): void;
  setTotal(total: number): void;
  note(note: string): void;
  /** End the bar (prints its final line with the elapsed time). */
  finish(note?: string): void;
  /** End the bar as failed or skipped. */
  fail(note: string): void;
  readonly elapsedSec: number;
}

type Stream = NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns'>>;

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`
    : `${m}:${String(r).padStart(2, '0')}`;
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export class Progress {
  readonly tty: boolean;
  #stream: Stream;
  #active: BarImpl | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly plainEverySec: number;
  readonly enabled: boolean;

  constructor(opts: { stream?: Stream; enabled?: boolean; plainEverySec?: number } = {}) {
    this.#stream = opts.stream ?? process.stderr;
    this.tty = this.#stream.isTTY === true;
    this.enabled = opts.enabled ?? true;
    this.plainEverySec = opts.plainEverySec ?? 10;
  }

  /** A line above the bar (or a plain line). */
  log(line: string): void {
    if (!this.enabled) return;
    if (this.tty && this.#active) this.#stream.write('\r\x1b[2K');
    this.#stream.write(line + '\n');
    if (this.tty && this.#active) this.#draw();
  }

  bar(label: string, opts: BarOptions = {}): Bar {
    if (this.#active) this.#active.finish();
    const b = new BarImpl(this, label, opts);
    this.#active = b;
    if (this.enabled) {
      if (this.tty) {
        this.#draw();
        this.#timer = setInterval(() => this.#draw(), 250);
        this.#timer.unref();
      } else this.#stream.write(`${label} …\n`);
    }
    return b;
  }

  /** Stop redrawing (e.g. on Ctrl-C) and leave the cursor on a fresh line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.enabled && this.tty && this.#active) this.#stream.write('\n');
    this.#active = null;
  }

  /** @internal */
  _end(b: BarImpl, line: string): void {
    if (this.#active !== b) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#active = null;
    if (!this.enabled) return;
    if (this.tty) this.#stream.write('\r\x1b[2K');
    this.#stream.write(line + '\n');
  }

  /** @internal */
  _plain(line: string): void {
    if (this.enabled && !this.tty) this.#stream.write(line + '\n');
  }

  /** @internal */
  _redraw(): void {
    if (this.enabled && this.tty) this.#draw();
  }

  #draw(): void {
    const b = this.#active;
    if (!b) return;
    const width = Math.max(40, (this.#stream.columns || 100) - 1);
    // the bar takes what the text leaves, 10 to 30 characters
    let line = b.render(10);
    if (line.length < width) line = b.render(10 + Math.min(20, width - line.length));
    if (line.length > width) line = line.slice(0, width - 1) + '…';
    this.#stream.write('\r\x1b[2K' + line);
  }
}

class BarImpl implements Bar {
  #t0 = performance.now();
  #done = 0;
  #note = '';
  #lastPlain = performance.now();
  #ended = false;

  constructor(
    private readonly p: Progress,
    private readonly label: string,
    private opts: BarOptions,
  ) {}

  get elapsedSec(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  #fraction(): { f: number; estimated: boolean } {
    const total = this.opts.total ?? 0;
    if (total > 0) return { f: Math.min(1, this.#done / total), estimated: false };
    const est = this.opts.estimateSec ?? 0;
    if (est > 0) return { f: Math.min(0.99, this.elapsedSec / est), estimated: true };
    return { f: 0, estimated: true };
  }

  #eta(): number {
    const total = this.opts.total ?? 0;
    const el = this.elapsedSec;
    if (total > 0 && this.#done > 0) return (el / this.#done) * (total - this.#done);
    const est = this.opts.estimateSec;
    return est !== undefined && est > 0 ? Math.max(0, est - el) : Number.NaN;
  }

  render(barWidth: number): string {
    const { f, estimated } = this.#fraction();
    const fill = Math.round(f * barWidth);
    const bar = '#'.repeat(fill) + '-'.repeat(barWidth - fill);
    const pct = `${estimated ? '~' : ''}${Math.floor(f * 100)}%`.padStart(5);
    const total = this.opts.total ?? 0;
    const counts =
      total > 0
        ? `  ${compact(this.#done)}/${compact(total)}${this.opts.unit ? ' ' + this.opts.unit : ''}`
        : '';
    const eta = this.#eta();
    const etaText = Number.isFinite(eta) ? `  ETA ${formatDuration(eta)}` : '';
    return `${this.label} [${bar}] ${pct}${counts}  ${formatDuration(this.elapsedSec)}${etaText}${this.#note ? '  ' + this.#note : ''}`;
  }

  setTotal(total: number): void {
    this.opts = { ...this.opts, total };
  }

  update(done: number, note?: string): void {
    if (this.#ended) return;
    this.#done = done;
    if (note !== undefined) this.#note = note;
    this.#maybePlain();
  }

  note(note: string): void {
    if (this.#ended) return;
    this.#note = note;
    this.#maybePlain();
    this.p._redraw();
  }

  #maybePlain(): void {
    const now = performance.now();
    if ((now - this.#lastPlain) / 1000 < this.p.plainEverySec) return;
    this.#lastPlain = now;
    const { f, estimated } = this.#fraction();
    const eta = this.#eta();
    this.p._plain(
      `${this.label}: ${estimated ? '~' : ''}${Math.floor(f * 100)}%` +
        (Number.isFinite(eta) ? `, ETA ${formatDuration(eta)}` : '') +
        (this.#note ? ` (${this.#note})` : ''),
    );
  }

  finish(note?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const n = note ?? this.#note;
    this.p._end(this, `${this.label}: done in ${formatDuration(this.elapsedSec)}${n ? ' — ' + n : ''}`);
  }

  fail(note: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.p._end(this, `${this.label}: ${note} (after ${formatDuration(this.elapsedSec)})`);
  }
}
