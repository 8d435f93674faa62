import { ownerOf, owns } from '../../lambda/agent/http/identity';

test('an assumed role owns its conversations as the role, whatever the session name', () => {
  // GIVEN two ECS tasks of one application, each with its own session
  const first = ownerOf({ arn: 'arn:aws:sts::111122223333:assumed-role/orders-app/3f2a9c' });
  const second = ownerOf({ arn: 'arn:aws:sts::111122223333:assumed-role/orders-app/7be10d' });

  // THEN both are the same owner, and the full session ARN is kept for logs
  expect(first?.id).toBe('arn:aws:sts::111122223333:assumed-role/orders-app');
  expect(second?.id).toBe(first?.id);
  expect(first?.caller).toBe('arn:aws:sts::111122223333:assumed-role/orders-app/3f2a9c');
});

test("a conversation stored under a session's full ARN stays that session's", () => {
  const owner = ownerOf({ arn: 'arn:aws:sts::111122223333:assumed-role/orders-app/3f2a9c' })!;

  expect(owns(owner, 'arn:aws:sts::111122223333:assumed-role/orders-app/3f2a9c')).toBe(true);
  expect(owns(owner, 'arn:aws:sts::111122223333:assumed-role/orders-app/other-session')).toBe(false);
  expect(owns(owner, 'arn:aws:sts::111122223333:assumed-role/other-app')).toBe(false);
});

test('users of one Cognito identity pool are told apart by identity id, never merged into their shared role', () => {
  const role = 'arn:aws:sts::111122223333:assumed-role/pool-role/CognitoIdentityCredentials';

  const alice = ownerOf({ arn: role, cognitoIdentityId: 'eu-west-1:aaaa' });
  const bob = ownerOf({ arn: role, cognitoIdentityId: 'eu-west-1:bbbb' });

  expect(alice?.id).toBe('cognito-identity:eu-west-1:aaaa');
  expect(bob?.id).not.toBe(alice?.id);
});

test('IAM users, federated users and user pool subs are owners as they are; no identity is no owner', () => {
  expect(ownerOf({ arn: 'arn:aws:iam::111122223333:user/alice' })?.id).toBe('arn:aws:iam::111122223333:user/alice');
  expect(ownerOf({ arn: 'arn:aws:sts::111122223333:federated-user/bob' })?.id).toBe('arn:aws:sts::111122223333:federated-user/bob');
  expect(ownerOf({ userPoolSub: 'sub-1' })?.id).toBe('sub-1');
  expect(ownerOf(undefined)).toBeUndefined();
  expect(ownerOf({})).toBeUndefined();
});
