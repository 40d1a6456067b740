import { retryOnConflict } from '../../cluster/retry.js';

const conflict = () => Object.assign(new Error('Conflict'), { code: 409 });

test('retries a 409 Conflict until the attempt succeeds', async () => {
  let n = 0;
  await expect(retryOnConflict(async () => (++n < 3 ? Promise.reject(conflict()) : 'ok'))).resolves.toBe('ok');
  expect(n).toBe(3);
});

test('other errors, and conflicts beyond the limit, are thrown', async () => {
  let n = 0;
  const notFound = Object.assign(new Error('NotFound'), { code: 404 });
  await expect(retryOnConflict(async () => (n++, Promise.reject(notFound)))).rejects.toBe(notFound);
  expect(n).toBe(1);
  n = 0;
  await expect(retryOnConflict(async () => (n++, Promise.reject(conflict())), 4)).rejects.toThrow('Conflict');
  expect(n).toBe(4);
});
