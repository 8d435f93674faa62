import { EndUsers } from '../../lambda/agent/http/end-user';
import type { HttpError } from '../../lambda/agent/http/http-error';
import { ownerOf, owns, type Caller } from '../../lambda/agent/http/identity';
import type { AgentHttpRequest } from '../../lambda/agent/http/types';

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

describe('end users behind a backend', () => {
  const request = (caller: Caller, endUser?: string): AgentHttpRequest => ({
    method: 'GET',
    path: '/v1/conversations',
    headers: endUser === undefined ? {} : { 'x-agent-end-user': endUser },
    caller,
    requestId: 'r-1',
    remainingTimeMs: () => 1000,
  });
  const endUsers = new EndUsers(['arn:aws:iam::111122223333:role/service-role/chat/backend', 'arn:aws:iam::111122223333:user/batch']);
  const refusal = (caller: Caller, endUser = 'alice') => {
    try {
      endUsers.ownerOf(request(caller, endUser));
      return undefined;
    } catch (error) {
      return [(error as HttpError).status, (error as HttpError).code];
    }
  };

  test("a granted role's sessions act for an end user as the pair of the role and the end user, whatever the role's path", () => {
    const owner = endUsers.ownerOf(request({ arn: 'arn:aws:sts::111122223333:assumed-role/backend/task-1' }, 'alice'));

    expect(owner).toMatchObject({
      id: 'arn:aws:sts::111122223333:assumed-role/backend#user:alice',
      endUser: 'alice',
      callerId: 'arn:aws:sts::111122223333:assumed-role/backend',
      aliases: [],
    });
  });

  test('a granted IAM user acts for end users too; without the header every caller is itself', () => {
    expect(endUsers.ownerOf(request({ arn: 'arn:aws:iam::111122223333:user/batch' }, 'u-1')).id).toBe('arn:aws:iam::111122223333:user/batch#user:u-1');
    expect(endUsers.ownerOf(request({ userPoolSub: 'sub-1' })).id).toBe('sub-1');
  });

  test('the same role name in another account, another role, Cognito users and identity-pool users are refused with 403', () => {
    expect(refusal({ arn: 'arn:aws:sts::444455556666:assumed-role/backend/task-1' })).toEqual([403, 'end_user_not_allowed']);
    expect(refusal({ arn: 'arn:aws:sts::111122223333:assumed-role/backend-2/task-1' })).toEqual([403, 'end_user_not_allowed']);
    expect(refusal({ userPoolSub: 'arn:aws:sts::111122223333:assumed-role/backend' })).toEqual([403, 'end_user_not_allowed']);
    expect(refusal({ arn: 'arn:aws:sts::111122223333:assumed-role/backend/CognitoIdentityCredentials', cognitoIdentityId: 'eu-west-1:a' })).toEqual([
      403,
      'end_user_not_allowed',
    ]);
  });

  test('an end user id that could be taken for another pair is refused with 400', () => {
    const backend = { arn: 'arn:aws:sts::111122223333:assumed-role/backend/task-1' };
    expect(refusal(backend, 'alice#user:bob')).toEqual([400, 'invalid_end_user']);
    expect(refusal(backend, 'alice bob')).toEqual([400, 'invalid_end_user']);
    expect(refusal(backend, 'ü')).toEqual([400, 'invalid_end_user']);
    expect(refusal(backend, 'a'.repeat(128))).toBeUndefined();
  });
});
