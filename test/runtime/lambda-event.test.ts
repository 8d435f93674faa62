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

test('an IAM-authorized REST proxy event becomes a request of the caller ARN, with lower-case headers', () => {
  const request = toAgentRequest(event(), context);

  expect(request).toMatchObject({
    method: 'POST',
    path: '/v1/conversations/c1/messages',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: '{"text":"hi"}',
    principal: 'arn:aws:sts::111122223333:assumed-role/app/session',
    requestId: 'apigw-request',
  });
  expect(request.remainingTimeMs()).toBe(42_000);
});

test('a Cognito-authorized event names the user by the sub claim', () => {
  const request = toAgentRequest(event({ requestContext: { requestId: 'r', identity: {}, authorizer: { claims: { sub: 'user-sub-1' } } } as never }), context);

  expect(request.principal).toBe('user-sub-1');
});

test('a base64 body is decoded, and an event without identity has no principal', () => {
  const request = toAgentRequest(
    event({ body: Buffer.from('{"text":"é"}').toString('base64'), isBase64Encoded: true, requestContext: { requestId: 'r', identity: {} } as never }),
    context,
  );

  expect(request.body).toBe('{"text":"é"}');
  expect(request.principal).toBeUndefined();
});
