import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { BedrockModel, Jurisdiction, ModelChain } from '../../lib';
import { agentApp, us } from './fixtures';

/** EU member states' regions, as a strict jurisdiction would list them (no London, no Zurich). */
const EU_MEMBER_STATES = ['eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-3'];
const europe = route53.GeoLocation.continent(route53.Continent.EUROPE);
/** A model that stays inside: the us. profile in the US, in-region in the EU's two regions. */
const STAYS_IN = BedrockModel.of('amazon.nova-pro-v1:0', { inferenceGeographies: ['us'], inRegionAvailability: ['eu-west-1', 'eu-central-1'] });
const strictEu = (options: Parameters<typeof Jurisdiction.eu>[1] = {}) =>
  Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { geolocations: [europe], processingRegions: EU_MEMBER_STATES, ...options });

describe('strict residency (processingRegions)', () => {
  test('refuses an eu. profile whose destinations leave the allowed regions, naming the profile, the regions and the in-region model id', () => {
    // GIVEN Claude's eu. profile, which may route to eu-west-2 (London) and eu-central-2 (Zurich)
    const build = () => agentApp({ jurisdictions: [us(), strictEu()] });

    // WHEN / THEN
    expect(build).toThrow(
      expect.objectContaining({
        name: 'MultiRegionAgentError',
        code: 'ProfileLeavesProcessingRegions',
        message: expect.stringMatching(
          /inference profile eu\.anthropic\.claude-sonnet-4-5-20250929-v1:0, called from eu-west-1, may process requests in eu-central-2, eu-west-2, outside the processing regions of jurisdiction 'eu'.*call it in-region by its model id anthropic\.claude-sonnet-4-5-20250929-v1:0/,
        ),
      }),
    );
  });

  test('says Bedrock offers the model in-region where inRegionAvailability lists the region', () => {
    // GIVEN
    const model = BedrockModel.of('amazon.nova-pro-v1:0', { inferenceGeographies: ['eu'], inRegionAvailability: ['eu-west-1', 'eu-central-1'] });

    // WHEN / THEN
    expect(() => agentApp({ jurisdictions: [strictEu()], chain: ModelChain.of(model) })).toThrow(
      /Bedrock offers it on demand in eu-west-1: call it in-region by its model id amazon.nova-pro-v1:0/,
    );
  });

  test('says Bedrock does not offer the model in-region where inRegionAvailability leaves the region out', () => {
    const model = BedrockModel.of('amazon.nova-pro-v1:0', { inferenceGeographies: ['eu'], inRegionAvailability: ['eu-north-1'] });

    expect(() => agentApp({ jurisdictions: [strictEu()], chain: ModelChain.of(model) })).toThrow(
      /Bedrock does not offer it on demand in eu-west-1 \(inRegionAvailability\): choose a model whose eu profile stays inside/,
    );
  });

  test('accepts a chain whose profiles stay in the allowed regions, and one called in-region', () => {
    // GIVEN a profile AWS documents with EU destinations only, and a model called by its own id
    const profiled = BedrockModel.of('anthropic.claude-sonnet-4-5-20250929-v1:0', {
      inferenceGeographies: ['eu'],
      destinationRegions: { eu: ['eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-3'] },
    });
    const inRegion = BedrockModel.of('amazon.nova-pro-v1:0', { inRegionAvailability: ['eu-west-1', 'eu-central-1'] });

    // WHEN
    const { agent } = agentApp({ jurisdictions: [strictEu()], chain: ModelChain.of(profiled, inRegion) });

    // THEN
    const eu = agent.runtimes.find((runtime) => runtime.region === 'eu-west-1')!;
    expect(eu.targets.map((target) => target.modelId)).toEqual([
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'amazon.nova-pro-v1:0',
      'amazon.nova-pro-v1:0',
    ]);
  });

  test('warns when a restricted jurisdiction, strict or not, has no geolocations: its users follow plain latency routing', () => {
    // GIVEN / WHEN
    const { agent } = agentApp({ jurisdictions: [us(), strictEu({ geolocations: [] })], chain: ModelChain.of(STAYS_IN) });

    // THEN
    Annotations.fromStack(agent.homeStacks.eu).hasWarning(
      '*',
      Match.stringLikeRegexp(
        "jurisdiction 'eu' limits processing to .* but has no geolocations: its users follow plain latency routing on agent.example.com.*RestrictedWithoutGeolocations",
      ),
    );
    Annotations.fromStack(agent.homeStacks.us).hasWarning(
      '*',
      Match.stringLikeRegexp("jurisdiction 'us' is restricted but has no geolocations.*RestrictedWithoutGeolocations"),
    );
  });

  test('gives no warning to a restricted jurisdiction with geolocations, nor to one that is not restricted', () => {
    const { agent } = agentApp({
      jurisdictions: [Jurisdiction.us(['us-east-1', 'us-west-2'], { restricted: false }), strictEu()],
      chain: ModelChain.of(STAYS_IN),
    });

    Annotations.fromStack(agent.homeStacks.eu).hasNoWarning('*', Match.anyValue());
    Annotations.fromStack(agent.homeStacks.us).hasNoWarning('*', Match.anyValue());
  });

  test.each([
    [
      'names an unknown region',
      { processingRegions: ['eu-west-1', 'eu-central-1', 'eu-wset-9'] },
      /processingRegions lists 'eu-wset-9', which is not an AWS region that aws-cdk-lib knows/,
    ],
    [
      'names a region outside the geography',
      { processingRegions: ['eu-west-1', 'eu-central-1', 'us-east-1'] },
      /processingRegions lists us-east-1, outside the eu geography/,
    ],
    [
      'leaves out a deployed region',
      { processingRegions: ['eu-west-1', 'eu-north-1'] },
      /regions eu-central-1 is not among processingRegions \(eu-west-1, eu-north-1\)/,
    ],
    ['lists a region twice', { processingRegions: ['eu-west-1', 'eu-central-1', 'eu-west-1'] }, /processingRegions lists eu-west-1 twice/],
    ['is unrestricted', { processingRegions: ['eu-west-1', 'eu-central-1'], restricted: false }, /an unrestricted jurisdiction does not promise/],
  ])('throws if processingRegions %s', (_case, options, message) => {
    expect(() => Jurisdiction.eu(['eu-west-1', 'eu-central-1'], options)).toThrow(message);
  });

  test('throws if a model lists an unknown destination region', () => {
    expect(() => BedrockModel.of('amazon.nova-pro-v1:0', { inferenceGeographies: ['eu'], destinationRegions: { eu: ['eu-west-1', 'eu-mars-1'] } })).toThrow(
      /destinationRegions lists 'eu-mars-1', not AWS regions that aws-cdk-lib knows/,
    );
  });
});
