import { SmpcallError } from "../errors";

/** Thrown when an object graph holds something a {@link GraphSnapshot} cannot put back. */
export class SnapshotUnsupported extends SmpcallError {
  constructor(what: string) {
    super(
      "SMPCALL_SNAPSHOT",
      `cannot snapshot ${what}: its state is not reachable through fields; build a fresh system per run instead`,
    );
  }
}

/** What kind of container a recorded object is. */
const PLAIN = 0;
const ARRAY = 1;
const TYPED = 2;
const MAP = 3;
const SET = 4;

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * The state of an object graph at one moment, put back in place by {@link restore}: every object
 * reachable from the roots through fields, array elements and Map/Set entries (not through
 * closures) gets back the field values, elements and entries it had — the same objects, so every
 * reference among them, closures' included, stays valid. Objects created after the snapshot
 * become unreachable from the graph again. Restoring allocates nothing for fields, arrays and
 * typed arrays (a Map or Set that changed is cleared and refilled).
 *
 * What it cannot see: state held only in a closure's variables or in module-level variables,
 * and JavaScript `#private` fields. It refuses (throws {@link SnapshotUnsupported}) WeakMaps,
 * WeakSets, WeakRefs, DataViews, promises and generator objects met in the graph; the code
 * snapshotted must keep its state in fields (the machine, the kernel, the project's backends
 * and the explorer's runtime do; `core/test/explorer-system-reuse.test.ts` checks it).
 */
export class GraphSnapshot {
  /** Every recorded object, with its kind and its saved state (field values, elements, entries). */
  private readonly objects: object[] = [];
  private readonly kinds: number[] = [];
  /** PLAIN: keys and values; ARRAY: elements; TYPED: a copy; MAP: [k0, v0, k1, v1, ...]; SET: values. */
  private readonly keys: (PropertyKey[] | null)[] = [];
  private readonly saved: unknown[] = [];
  /** PLAIN objects: a restorer made for their keys (null: the generic loop). */
  private readonly restorers: (Restorer | null)[] = [];

  /** Record the graph reachable from `roots`, leaving out the objects of `skip` and what only they reach. */
  constructor(roots: readonly unknown[], skip: ReadonlySet<object> = new Set()) {
    const seen = new Set<object>(skip);
    const todo: unknown[] = [...roots];
    while (todo.length > 0) {
      const v = todo.pop();
      if (typeof v !== "object" || v === null || seen.has(v)) continue;
      seen.add(v);
      this.record(v, todo);
    }
  }

  /** Objects recorded (for tests and measurements). */
  get size(): number {
    return this.objects.length;
  }

  private record(o: object, todo: unknown[]): void {
    const tag = Object.prototype.toString.call(o);
    if (Array.isArray(o)) {
      this.push(o, ARRAY, null, o.slice());
      for (const x of o) todo.push(x);
      return;
    }
    if (ArrayBuffer.isView(o)) {
      if (o instanceof DataView) throw new SnapshotUnsupported("a DataView");
      this.push(o, TYPED, null, (o as TypedArray).slice());
      return;
    }
    if (o instanceof Map) {
      const flat: unknown[] = [];
      for (const [k, x] of o) {
        flat.push(k, x);
        todo.push(k, x);
      }
      this.push(o, MAP, null, flat);
      return;
    }
    if (o instanceof Set) {
      const vals = [...(o as Set<unknown>)];
      for (const x of vals) todo.push(x);
      this.push(o, SET, null, vals);
      return;
    }
    if (
      o instanceof WeakMap ||
      o instanceof WeakSet ||
      o instanceof WeakRef ||
      o instanceof Promise ||
      tag === "[object Generator]" ||
      tag === "[object AsyncGenerator]"
    )
      throw new SnapshotUnsupported(`a ${tag.slice(8, -1)} in the graph`);
    const keys: PropertyKey[] = [];
    const vals: unknown[] = [];
    const frozen = Object.isFrozen(o);
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      if (!("value" in d)) continue;
      todo.push(d.value);
      if (frozen || d.writable !== true) continue;
      keys.push(k);
      vals.push(d.value);
    }
    if (keys.length > 0) this.push(o, PLAIN, keys, vals);
  }

  private push(o: object, kind: number, keys: PropertyKey[] | null, saved: unknown): void {
    this.objects.push(o);
    this.kinds.push(kind);
    this.keys.push(keys);
    this.saved.push(saved);
    this.restorers.push(kind === PLAIN ? restorerFor(keys!) : null);
  }

  /** Put every recorded object back in the state it had when the snapshot was taken. */
  restore(): void {
    const { objects, kinds, keys, saved, restorers } = this;
    for (let i = 0; i < objects.length; i++) {
      const o = objects[i];
      switch (kinds[i]) {
        case PLAIN: {
          const f = restorers[i];
          if (f !== null) {
            f(o, saved[i] as unknown[]);
            break;
          }
          const ks = keys[i]!;
          const vs = saved[i] as unknown[];
          const r = o as Record<PropertyKey, unknown>;
          for (let j = 0; j < ks.length; j++) {
            const k = ks[j] as string;
            if (r[k] !== vs[j]) r[k] = vs[j];
          }
          break;
        }
        case ARRAY: {
          const a = o as unknown[];
          const s = saved[i] as unknown[];
          if (a.length !== s.length) a.length = s.length;
          for (let j = 0; j < s.length; j++) if (a[j] !== s[j]) a[j] = s[j];
          break;
        }
        case TYPED:
          (o as TypedArray).set(saved[i] as never);
          break;
        case MAP: {
          const m = o as Map<unknown, unknown>;
          const flat = saved[i] as unknown[];
          if (!sameMap(m, flat)) {
            m.clear();
            for (let j = 0; j < flat.length; j += 2) m.set(flat[j], flat[j + 1]);
          }
          break;
        }
        default: {
          const s = o as Set<unknown>;
          const vals = saved[i] as unknown[];
          if (!sameSet(s, vals)) {
            s.clear();
            for (const x of vals) s.add(x);
          }
        }
      }
    }
  }
}

/** Does `m` hold exactly the entries `flat` ([k0, v0, ...]) in that order? */
function sameMap(m: Map<unknown, unknown>, flat: readonly unknown[]): boolean {
  if (m.size * 2 !== flat.length) return false;
  let j = 0;
  for (const [k, v] of m) {
    if (k !== flat[j] || v !== flat[j + 1]) return false;
    j += 2;
  }
  return true;
}

/** Does `s` hold exactly `vals` in that order? */
function sameSet(s: Set<unknown>, vals: readonly unknown[]): boolean {
  if (s.size !== vals.length) return false;
  let j = 0;
  for (const x of s) if (x !== vals[j++]) return false;
  return true;
}

/** Puts saved field values back into an object: `(o, values)`. */
type Restorer = (o: object, values: readonly unknown[]) => void;

/** Restorers made so far, by their keys (objects of one class share one: its property accesses stay monomorphic). */
const restorerCache = new Map<string, Restorer | null>();

/**
 * A restorer for objects with the fields `keys`, in that order: straight-line code with one
 * named access per field (about 4x faster than a loop over the keys, whose accesses V8 cannot
 * specialise), made with `new Function` from the keys' JSON text. Null when a key is a symbol,
 * or where code cannot be made at run time (a page's content security policy): the generic
 * loop then does the same.
 */
function restorerFor(keys: readonly PropertyKey[]): Restorer | null {
  if (keys.some((k) => typeof k !== "string")) return null;
  const id = JSON.stringify(keys);
  let f = restorerCache.get(id);
  if (f !== undefined) return f;
  let body = "let x;\n";
  keys.forEach((k, j) => {
    const at = `o[${JSON.stringify(k)}]`;
    body += `x = v[${j}]; if (${at} !== x) ${at} = x;\n`;
  });
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    f = new Function("o", "v", body) as Restorer;
  } catch {
    f = null;
  }
  restorerCache.set(id, f);
  return f;
}
