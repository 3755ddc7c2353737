import { MAX_DEPTH, duplicateKey, nestsDeeperThan } from '../../shared/runtime/json-body';
import { registerSecret, scrub, scrubValue } from '../../shared/runtime/secrets';
import { checkParameters } from '../../shared/runtime/params';

describe('nestsDeeperThan', () => {
  test('counts arrays and objects, not brackets inside strings or after escapes', () => {
    expect(nestsDeeperThan('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[[[{{{{{{', b: 'quote \\" [[[[' }), 1)).toBe(false);
    expect(nestsDeeperThan(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`, MAX_DEPTH)).toBe(false);
    expect(nestsDeeperThan(`${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`, MAX_DEPTH)).toBe(true);
  });
});

describe('duplicateKey', () => {
  test('finds a key given twice at any depth, and names its path', () => {
    expect(duplicateKey('{"pool":"rbd","name":"a","pool":"x"}')).toBe('pool');
    expect(duplicateKey('{"a":{"b":1,"b":2}}')).toBe('a.b');
    expect(duplicateKey('{"a":[{"c":1},{"c":2,"c":3}]}')).toBe('a[1].c');
    // Escapes spell the same key.
    expect(duplicateKey('{"size":1,"si\\u007ae":2}')).toBe('size');
    expect(duplicateKey('{"__proto__":1, "__proto__" :2}')).toBe('__proto__');
    expect(duplicateKey('{ "a" : "x\\":", "b":{"k\\"" :1}, "a" :\n2}')).toBe('a');
  });

  test('passes what has none, and leaves what is not JSON to the JSON parser', () => {
    expect(duplicateKey('{"a":{"b":1},"b":{"a":1}}')).toBeUndefined();
    expect(duplicateKey('[{"a":1},{"a":2}]')).toBeUndefined();
    expect(duplicateKey('{"a":')).toBeUndefined();
    // Colons and quotes inside strings are not keys.
    expect(duplicateKey('{"a":"b\\":c", "d":["e:", "\\"f\\":"], "g" : {"h":null}}')).toBeUndefined();
  });
});

describe('checkParameters', () => {
  const event = (query: Record<string, unknown>, body?: unknown) => ({ query, body, headers: {}, method: 'POST', path: '/' });
  test('takes the listed parameters from the query and the body', () => {
    expect(() => checkParameters('create-image', ['pool', 'name', 'size'], event({ pool: 'rbd' }, { name: 'a', size: 1 }))).not.toThrow();
  });
  test('refuses any other with a 400 naming it and what the function takes', () => {
    expect(() => checkParameters('create-image', ['pool', 'name', 'size', 'features'], event({}, { pool: 'rbd', name: 'a', size: 1, featurs: [] }))).toThrow(
      expect.objectContaining({ code: 400, message: 'create-image takes no parameter "featurs"; it takes pool, name, size, features.' }),
    );
    expect(() => checkParameters('list-pools', ['all'], event({ pool: 'rbd' }))).toThrow(/list-pools takes no parameter "pool"/);
  });
});

describe('scrub', () => {
  test('hides cephx keys and registered secrets, leaves the rest', () => {
    registerSecret('token-0123456789');
    registerSecret('short'); // too short to hide safely
    expect(scrub('received "AQCFsgdrS6YzCBAAgXBi2hnD0oSMD+iE0CWa5A==" for size')).toBe('received "[redacted]" for size');
    expect(scrub('Bearer token-0123456789 and short')).toBe('Bearer [redacted] and short');
    expect(scrubValue({ name: 'AQCFsgdrS6YzCBAAgXBi2hnD0oSMD+iE0CWa5A==', pool: 'rbd', n: [1, 'token-0123456789'] })).toEqual({
      name: '[redacted]',
      pool: 'rbd',
      n: [1, '[redacted]'],
    });
  });
});
