import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toAgentRequest } from '../../lambda/agent/http/api-gateway-event';

const context = { getRemainingTimeInMillis: () => 42_000, awsRequestId: 'lambda-request' };

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: '/v1/conversations/c1/messages',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: '{"text":"hi"}',
    isBase64Encoded: false,
    requestContext: { requestId: 'apigw-request', identity: { userArn: 'arn:aws:sts::111122223333:assumed-role/app/session', caller: 'AROA:session' } },
    ...overrides,
  } as unknown as APIGatewayProxyEvent;
}

test('an IAM-authorized REST proxy event becomes a request of the caller ARN, with lower-case headers and the body as bytes', () => {
  const request = toAgentRequest(event(), context);

  expect(request).toMatchObject({
    method: 'POST',
    path: '/v1/conversations/c1/messages',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    caller: { arn: 'arn:aws:sts::111122223333:assumed-role/app/session' },
    requestId: 'apigw-request',
  });
  expect(Buffer.from(request.body!).toString('utf8')).toBe('{"text":"hi"}');
  expect(request.remainingTimeMs()).toBe(42_000);
});

test("a listing's query string reaches the request; an event without one has none", () => {
  const listing = toAgentRequest(
    event({ httpMethod: 'GET', path: '/v1/conversations', body: null, queryStringParameters: { limit: '5', cursor: 'WyJldS5hIiwiMjAyNiJd' } }),
    context,
  );

  expect(listing.query).toEqual({ limit: '5', cursor: 'WyJldS5hIiwiMjAyNiJd' });
  expect(toAgentRequest(event({ queryStringParameters: null }), context).query).toBeUndefined();
});

test('a Cognito-authorized event names the user by the sub claim', () => {
  const request = toAgentRequest(event({ requestContext: { requestId: 'r', identity: {}, authorizer: { claims: { sub: 'user-sub-1' } } } as never }), context);

  expect(request.caller).toEqual({ userPoolSub: 'user-sub-1' });
});

test('IAM credentials from a Cognito identity pool carry the identity id beside the role session', () => {
  const identity = { userArn: 'arn:aws:sts::111122223333:assumed-role/pool-role/CognitoIdentityCredentials', cognitoIdentityId: 'eu-west-1:1111-2222' };

  const request = toAgentRequest(event({ requestContext: { requestId: 'r', identity } as never }), context);

  expect(request.caller).toEqual({ arn: identity.userArn, cognitoIdentityId: 'eu-west-1:1111-2222' });
});

test('a base64 body keeps its exact bytes (invalid UTF-8 included), and an event without identity has no caller', () => {
  const bytes = Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);

  const request = toAgentRequest(
    event({ body: bytes.toString('base64'), isBase64Encoded: true, requestContext: { requestId: 'r', identity: {} } as never }),
    context,
  );

  expect(Buffer.from(request.body!).equals(bytes)).toBe(true);
  expect(request.caller).toBeUndefined();
});
