import { Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AgentRuntime, ConversationTable, Jurisdiction } from '../../lib';
import { ACCOUNT, chain, RECORD, testApp, ZONE } from './fixtures';

/**
 * What an attacker or an unlucky SDK can put into the values API Gateway
 * substitutes: quotes (validation strings quote the schema), backslashes,
 * newlines (signature errors carry the canonical request), control
 * characters, non-ASCII, and the single quote that escapeJavaScript would
 * turn into \' (invalid JSON).
 */
const HOSTILE = 'he said "no" \\ C:\\path\n\tline two\r\u0000\u0008\u001f é ü 東京 💥 it\'s </script>';

/**
 * Renders a gateway response template the way API Gateway does: it is not
 * run by VTL; `$context.x`, `$stageVariables.x` and `method.request.*`
 * variables are replaced by their raw values, nothing is escaped.
 */
function render(template: string, value: string): string {
  return template.replace(/\$\{?(?:context|stageVariables)\.[A-Za-z0-9_.]+\}?|method\.request\.[A-Za-z]+\.[A-Za-z0-9_-]+/g, () => value);
}

function gatewayResponses(): Array<{ type: string; template: string }> {
  const app = testApp();
  const jurisdiction = Jurisdiction.eu(['eu-west-1', 'eu-central-1']);
  const stack = new Stack(app, 'RuntimeStack', { env: { account: ACCOUNT, region: 'eu-central-1' } });
  new AgentRuntime(stack, 'Runtime', {
    jurisdiction,
    chain: chain(),
    table: ConversationTable.fromJurisdiction(stack, 'Table', { jurisdiction, tableName: 'agent-conversations-eu' }),
    recordName: RECORD,
    hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', ZONE),
  });
  return Object.values(Template.fromStack(stack).findResources('AWS::ApiGateway::GatewayResponse')).map((resource) => ({
    type: resource.Properties.ResponseType,
    template: resource.Properties.ResponseTemplates['application/json'],
  }));
}

test("API Gateway's own errors cover authentication, validation, size, throttling and the 4xx/5xx defaults", () => {
  const types = gatewayResponses().map((response) => response.type);

  expect(types.sort()).toEqual(
    [
      'ACCESS_DENIED',
      'BAD_REQUEST_BODY',
      'BAD_REQUEST_PARAMETERS',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'EXPIRED_TOKEN',
      'INVALID_SIGNATURE',
      'MISSING_AUTHENTICATION_TOKEN',
      'REQUEST_TOO_LARGE',
      'THROTTLED',
      'UNAUTHORIZED',
    ].sort(),
  );
});

test.each(gatewayResponses().map((response) => [response.type, response.template]))(
  'the %s answer is valid JSON of the shape {"error":{"code","message"}} whatever its variables hold',
  (_type, template) => {
    // GIVEN hostile values for every variable the template uses
    // WHEN API Gateway substitutes them
    const rendered = render(template, HOSTILE);

    // THEN
    const parsed = JSON.parse(rendered);
    expect(Object.keys(parsed)).toEqual(['error']);
    expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message']);
    expect(parsed.error.code).toMatch(/^[a-z_]+$/);
    expect(typeof parsed.error.message).toBe('string');
    expect(parsed.error.message.length).toBeGreaterThan(10);
  },
);

test('no gateway response relies on VTL, which API Gateway does not run on them', () => {
  for (const { template } of gatewayResponses()) {
    expect(template).not.toMatch(/\$util|\$input|#(set|if|foreach)/);
  }
});

test('the renderer used above substitutes raw values, so a template quoting $context.error.message breaks', () => {
  // GIVEN the templates this library used to write
  const old = JSON.stringify({ error: { code: 'invalid_request', message: '$context.error.validationErrorString' } });

  // WHEN / THEN
  expect(() => JSON.parse(render(old, HOSTILE))).toThrow(SyntaxError);
});
