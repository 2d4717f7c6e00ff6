import { applyTransform, type Transform } from './transform.js'

/** A remote value as the cache holds it: SSM's string or StringList, a secret's string or bytes. */
export type RawValue = string | readonly string[] | Uint8Array

/**
 * The transformed views (`json`, `binary`) of the remote values one provider caches. The cache
 * holds one entry per remote value; a view is derived from the promise of one fetch of it, once,
 * and kept as long as that promise is the entry's: a refresh or an invalidation of the value
 * replaces every view of it at once.
 */
export class Views {
  readonly #memo: Record<Transform, WeakMap<Promise<unknown>, Promise<unknown>>> = {
    json: new WeakMap(),
    binary: new WeakMap(),
  }

  /** The `transform` view of the value `source` fetches (`undefined` stays `undefined`: an optional read). */
  of(name: string, source: Promise<RawValue | undefined>, transform: Transform): Promise<unknown> {
    const memo = this.#memo[transform]
    let view = memo.get(source)
    if (view === undefined) {
      view = source.then((raw) => derive(name, raw, transform))
      memo.set(source, view)
    }
    return view
  }

  /**
   * A reader of one view for a ref: it remembers the last source it was given, so a warm read
   * (the cache hands out the same promise while the value is fresh) costs one comparison.
   */
  reader(name: string, transform: Transform): (source: Promise<RawValue | undefined>) => Promise<unknown> {
    let lastSource: Promise<unknown> | undefined
    let lastView: Promise<unknown> = Promise.resolve(undefined)
    return (source) => {
      if (source !== lastSource) {
        lastSource = source
        lastView = this.of(name, source, transform)
      }
      return lastView
    }
  }
}

function derive(name: string, raw: RawValue | undefined, transform: Transform): unknown {
  if (raw === undefined) return undefined
  // A StringList is held as its items; its transforms read the value as SSM stores it.
  const source = typeof raw === 'string' || raw instanceof Uint8Array ? raw : raw.join(',')
  return applyTransform(name, transform, source)
}
