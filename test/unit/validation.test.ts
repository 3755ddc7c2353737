import { ParameterError } from '../../shared/errors';
import {
  validateCreateOptions,
  validateInteger,
  validateName,
  validateNamespace,
  validateSize,
} from '../../shared/validation';

function thrown(fn: () => unknown): ParameterError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).code).toBe('ERR_INVALID_PARAMETER');
    return err as ParameterError;
  }
  throw new Error('expected a validation error');
}

describe('names', () => {
  test.each(['rbd', 'a', 'pool-1_x.y', 'ünïcødé', '日本語', 'x'.repeat(250), '😀'.repeat(62)])('accepts %p', (name) => {
    expect(validateName('image', name)).toBe(name);
  });

  test.each([
    ['empty', ''],
    ['slash', 'a/b'],
    ['at', 'a@b'],
    ['space', 'a b'],
    ['tab', 'a\tb'],
    ['newline', 'a\n'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007f'],
    ['no-break space', 'a\u00a0b'],
    ['lone surrogate', 'a\ud800'],
    ['251 bytes', 'x'.repeat(251)],
    ['251 bytes of multibyte', 'é'.repeat(125) + 'x'],
    ['number', 42],
    ['undefined', undefined],
  ])('rejects %s', (_label, value) => {
    const err = thrown(() => validateName('image', value));
    expect(err.message).toMatch(/^Expected 1-250 bytes of UTF-8 without "\/", "@", whitespace or control characters for image but received /);
  });

  test('namespace may be empty or absent', () => {
    expect(validateNamespace(undefined)).toBe('');
    expect(validateNamespace('')).toBe('');
    expect(validateNamespace('team-a')).toBe('team-a');
    expect(thrown(() => validateNamespace('a/b')).message).toContain('for namespace');
  });
});

describe('sizes', () => {
  test('accepts whole bytes up to the cap', () => {
    expect(validateSize(1)).toBe(1);
    expect(validateSize(64 * 2 ** 40)).toBe(64 * 2 ** 40);
    expect(validateSize(10, 10)).toBe(10);
  });

  test.each([0, -1, 1.5, NaN, Infinity, 64 * 2 ** 40 + 1, 2 ** 53, '1G', null])('rejects %p', (value) => {
    expect(thrown(() => validateSize(value)).message).toContain('a whole number of bytes from 1 to');
  });

  test('the message shows the received value and type', () => {
    expect(thrown(() => validateInteger('delay', '5', 0, 9)).message).toBe(
      'Expected a whole number from 0 to 9 for delay but received "5" of type string',
    );
  });
});

describe('create options', () => {
  test('maps names to bits and object size to order', () => {
    expect(validateCreateOptions({ features: ['layering', 'exclusive-lock', 'object-map'], objectSize: 2 ** 23 })).toEqual({
      features: 1 | 4 | 8,
      order: 23,
    });
    expect(validateCreateOptions(undefined)).toEqual({});
    expect(validateCreateOptions({ features: [] })).toEqual({ features: 0 });
  });

  test('passes striping and a data pool through', () => {
    expect(validateCreateOptions({ stripeUnit: 65536, stripeCount: 8, dataPool: 'ec' })).toEqual({
      stripeUnit: 65536,
      stripeCount: 8,
      dataPool: 'ec',
    });
  });

  test.each([
    [{ features: ['bogus'] }, 'options.features'],
    [{ features: ['data-pool'] }, 'options.features'],
    [{ features: ['fast-diff', 'exclusive-lock'] }, 'fast-diff together with object-map'],
    [{ features: ['journaling'] }, 'journaling together with exclusive-lock'],
    [{ objectSize: 3000 }, 'options.objectSize'],
    [{ objectSize: 2 ** 11 }, 'options.objectSize'],
    [{ objectSize: 2 ** 26 }, 'options.objectSize'],
    [{ stripeUnit: 65536 }, 'stripeUnit and stripeCount given together'],
    [{ stripeUnit: 2 ** 23, stripeCount: 2 }, 'a divisor of the object size (4194304)'],
    [{ stripeUnit: 3, stripeCount: 2 }, 'options.stripeUnit'],
    [{ stripeUnit: 4096, stripeCount: 0 }, 'options.stripeCount'],
    [{ dataPool: 'a/b' }, 'options.dataPool'],
    [{ size: 5 }, 'only features, objectSize, stripeUnit, stripeCount, dataPool'],
    ['string', 'options'],
  ])('rejects %p', (options, fragment) => {
    expect(thrown(() => validateCreateOptions(options)).message).toContain(fragment);
  });
});
