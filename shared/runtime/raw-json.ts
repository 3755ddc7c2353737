/**
 * An answer already serialised as JSON (a listing built by the addon): the
 * runtime sends its bytes as they are. Whatever needs the value itself (a
 * route that reshapes answers, a CloudEvent, a test calling the handler)
 * reads .value, parsed once; JSON.stringify sees the same through toJSON.
 */
export class RawJson {
  private parsed?: { value: unknown };

  constructor(readonly bytes: Buffer) {}

  /** The bytes of the parts in order; strings as UTF-8. */
  static concat(...parts: (string | Buffer)[]): RawJson {
    return new RawJson(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
  }

  get value(): unknown {
    this.parsed ??= { value: JSON.parse(this.bytes.toString('utf8')) };
    return this.parsed.value;
  }

  toJSON(): unknown {
    return this.value;
  }
}

/** A handler's answer as a plain value. */
export function plainValue(body: unknown): unknown {
  return body instanceof RawJson ? body.value : body;
}
