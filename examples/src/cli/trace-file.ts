import * as fs from "node:fs";
import * as path from "node:path";
import {
  ChromeTraceWriter,
  UsageError,
  FtraceExport,
  ftraceHeader,
  type ChromeTraceMeta,
  type FtraceMeta,
  type TraceRecord,
} from "@smpcall/core";
import type { CliIo } from "./io";
import { openOutputFd } from "./output-path";

/** Trace file formats `--trace-format` accepts. */
export type TraceFormat = "ftrace" | "chrome";

/** Bytes gathered before one write to the file. */
const CHUNK = 1 << 16;

/**
 * Text appended to a file descriptor through one reused buffer of CHUNK bytes: each piece is
 * encoded into the buffer at once (no list of pieces, no joined string, no buffer per write), so
 * a long trace leaves no garbage behind but the pieces themselves.
 */
class ChunkedFile {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;

  constructor(
    readonly fd: number,
    private readonly name: string,
  ) {}

  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: a piece this size always fits.
    const worst = text.length * 3;
    if (this.used + worst > CHUNK) {
      this.flush();
      if (worst > CHUNK) {
        this.writeOut(text);
        return;
      }
    }
    this.used += this.buf.write(text, this.used, "utf8");
  }

  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeOut(this.buf.subarray(0, n));
  }

  private writeOut(data: string | Buffer): void {
    try {
      if (typeof data === "string") fs.writeSync(this.fd, data);
      else for (let off = 0; off < data.length;) off += fs.writeSync(this.fd, data, off, data.length - off);
    } catch (e) {
      throw new UsageError(`cannot write trace file ${this.name}: ${(e as Error).message}`);
    }
  }
}

function openForWrite(target: string, name: string, io: Pick<CliIo, "env" | "progress">): number {
  try {
    return openOutputFd(target, io);
  } catch (e) {
    throw new UsageError(`cannot write trace file ${name}: ${(e as Error).message}`);
  }
}

/**
 * A trace file written while the run goes: each record is turned into text as it is added and
 * written out 64 KB at a time, so memory stays flat however long the trace is. Chrome JSON
 * ends with the metadata (the run's report); an ftrace file starts with the entry counts, so its
 * lines go to a scratch file next to it and are copied in after the header at `end`.
 */
export class TraceFileWriter {
  private readonly target: string;
  private readonly file: ChunkedFile;
  private readonly chrome: ChromeTraceWriter | null;
  private readonly scratch: string | null;
  /** ftrace: the trace file, open from the start (its lines wait in the scratch file until the header is known). */
  private targetFd: number | null;
  private added = 0;
  /** Records an ftrace export under a kernel profile leaves out (events that kernel does not have). */
  private left = 0;
  private readonly ftrace: FtraceExport | null;

  /**
   * `head` names the run (cpus, arch, seed, kernel); `ftrace` adds what an ftrace export under a
   * kernel profile needs to know (the arch's tracepoints, whether irq-flags events exist).
   */
  constructor(
    private readonly name: string,
    readonly format: TraceFormat,
    head: ChromeTraceMeta,
    io: Pick<CliIo, "cwd" | "env" | "progress">,
    ftrace: Pick<FtraceMeta, "archTracepoints" | "irqFlagsTracepoints"> = {},
  ) {
    this.ftrace = format === "ftrace" ? new FtraceExport({ ...head, ...ftrace }) : null;
    this.target = path.resolve(io.cwd, name);
    if (format === "chrome") {
      this.scratch = null;
      this.targetFd = null;
      this.file = new ChunkedFile(openForWrite(this.target, name, io), name);
      this.chrome = new ChromeTraceWriter(head, (t) => this.file.write(t));
    } else {
      this.chrome = null;
      this.scratch = `${this.target}.${process.pid}.lines`;
      // Opened now and kept: an unwritable destination fails before the run, and a pipe's reader
      // (a FIFO) does not see its input end between this open and the writing of the file.
      this.targetFd = openForWrite(this.target, name, io);
      this.file = new ChunkedFile(openForWrite(this.scratch, name, io), name);
    }
  }

  /** Add the next record. */
  add(r: TraceRecord): void {
    if (this.chrome !== null) this.chrome.add(r);
    else if (!this.ftrace!.keeps(r)) {
      this.left++;
      return;
    } else this.file.write(this.ftrace!.line(r));
    this.added++;
  }

  /**
   * Finish the file. `written` is the number of records the run emitted (more than were added
   * when a ring buffer overwrote the oldest); `meta` is the Chrome trace's metadata or the ftrace
   * header's facts.
   */
  end(meta: ChromeTraceMeta, written: number): void {
    if (this.chrome !== null) {
      this.chrome.end(meta);
      this.file.flush();
      fs.closeSync(this.file.fd);
      return;
    }
    this.file.flush();
    fs.closeSync(this.file.fd);
    const scratch = this.scratch!;
    const out = new ChunkedFile(this.targetFd!, this.name);
    try {
      out.write(ftraceHeader({ ...this.ftrace!.meta, ...meta }, this.added, written - this.left));
      out.flush();
      const inFd = fs.openSync(scratch, "r");
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        for (;;) {
          const n = fs.readSync(inFd, buf, 0, CHUNK, null);
          if (n === 0) break;
          try {
            for (let off = 0; off < n;) off += fs.writeSync(out.fd, buf, off, n - off);
          } catch (e) {
            // A full disk, or a pipe whose reader went away (--trace /dev/stdout | head).
            throw new UsageError(`cannot write trace file ${this.name}: ${(e as Error).message}`);
          }
        }
      } finally {
        fs.closeSync(inFd);
      }
    } finally {
      fs.closeSync(out.fd);
      this.targetFd = null;
      fs.rmSync(scratch, { force: true });
    }
  }

  /** Records written to the file (after the ftrace export left out the events its kernel does not have). */
  get recordsWritten(): number {
    return this.added;
  }

  /** Records the ftrace export left out: events the kernel profile has no tracepoint for on this arch. */
  get recordsLeftOut(): number {
    return this.left;
  }

  /** Remove a half-written file (the run failed). */
  abandon(): void {
    try {
      fs.closeSync(this.file.fd);
    } catch {
      // already closed
    }
    if (this.targetFd !== null)
      try {
        fs.closeSync(this.targetFd);
      } catch {
        // already closed
      }
    if (this.scratch !== null) fs.rmSync(this.scratch, { force: true });
  }
}
