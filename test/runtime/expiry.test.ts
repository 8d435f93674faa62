/** DynamoDB's TTL in epoch seconds: an item never expires before its lifetime is up, and is dead from its second on. */
import { aliveAt, expiresAtSeconds } from '../../lambda/agent/expiry';

test('an item written mid-second expires at the first whole second not before its lifetime ends', () => {
  // GIVEN a write at 12.345 s (epoch) of an item that must last an hour
  const writtenAt = 12_345;

  // WHEN its expiry is computed
  const expiresAt = expiresAtSeconds(writtenAt, 3_600_000);

  // THEN it is 3613 s: 3612 would end it 345 ms early
  expect(expiresAt).toBe(3613);
  expect(aliveAt(expiresAt, writtenAt + 3_600_000)).toBe(true);
});

test('an item written on a whole second lasts exactly its lifetime, and is dead from its expiry on', () => {
  const expiresAt = expiresAtSeconds(10_000, 30 * 86_400_000);

  expect(expiresAt).toBe(10 + 30 * 86_400);
  expect(aliveAt(expiresAt, expiresAt * 1000 - 1)).toBe(true);
  expect(aliveAt(expiresAt, expiresAt * 1000)).toBe(false);
});
