import * as route53 from 'aws-cdk-lib/aws-route53';
import { BedrockModel, Jurisdiction, ModelChain, validateJurisdictions } from '../../lib';

const claude = BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5;
const nova = BedrockModel.AMAZON_NOVA_PRO;

describe('Jurisdiction', () => {
  test('the first region is the home region unless homeRegion says otherwise, and comes first', () => {
    expect(Jurisdiction.eu(['eu-west-1', 'eu-central-1']).homeRegion).toBe('eu-west-1');
    const moved = Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { homeRegion: 'eu-central-1' });
    expect(moved.homeRegion).toBe('eu-central-1');
    expect(moved.regions).toEqual(['eu-central-1', 'eu-west-1']);
  });

  test('geographic jurisdictions are restricted by default; a global one is not', () => {
    expect(Jurisdiction.eu(['eu-west-1']).restricted).toBe(true);
    expect(Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['us-east-1', 'eu-west-1'] }).restricted).toBe(false);
  });

  test.each([
    ['a malformed region name', () => Jurisdiction.eu(['eu-west1']), /regions contains 'eu-west1'/],
    ['duplicate regions', () => Jurisdiction.eu(['eu-west-1', 'eu-west-1']), /lists eu-west-1 twice/],
    ['no regions', () => Jurisdiction.eu([]), /at least one region/],
    [
      'a home region not among the regions',
      () => Jurisdiction.eu(['eu-west-1'], { homeRegion: 'eu-central-1' }),
      /homeRegion eu-central-1 is not among regions/,
    ],
    ['a region outside a restricted geography', () => Jurisdiction.eu(['eu-west-1', 'us-east-1']), /us-east-1 lie outside the eu geography/],
    [
      'a restricted global jurisdiction',
      () => Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['us-east-1'], restricted: true }),
      /cannot use the global geography/,
    ],
    [
      'a name that is not a DNS label',
      () => Jurisdiction.custom({ name: 'EU!', geography: 'eu', regions: ['eu-west-1'] }),
      /name must be a lowercase DNS label/,
    ],
    [
      'a name that is a region name, whose host it would take',
      () => Jurisdiction.custom({ name: 'eu-west-2', geography: 'eu', regions: ['eu-west-1'] }),
      /'eu-west-2': name is a region name/,
    ],
    [
      "the name of the public name's latency records",
      () => Jurisdiction.custom({ name: 'latency', geography: 'eu', regions: ['eu-west-1'] }),
      /name 'latency' is reserved/,
    ],
  ])('throws for %s', (_case, build, message) => {
    expect(build).toThrow(message);
  });

  test('throws if a region belongs to two jurisdictions', () => {
    const world = Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['us-east-1', 'ap-south-1'] });
    expect(() => validateJurisdictions([Jurisdiction.us(['us-east-1']), world])).toThrow(/region us-east-1 belongs to both 'us' and 'world'/);
  });

  test('throws if two jurisdictions share a name', () => {
    expect(() => validateJurisdictions([Jurisdiction.eu(['eu-west-1']), Jurisdiction.eu(['eu-central-1'])])).toThrow(/'eu' is used twice/);
  });

  test('geolocations are kept for routing', () => {
    const europe = route53.GeoLocation.continent(route53.Continent.EUROPE);
    expect(Jurisdiction.eu(['eu-west-1'], { geolocations: [europe] }).geolocations).toEqual([europe]);
  });
});

describe('BedrockModel', () => {
  test("resolves to the jurisdiction's geographic inference profile", () => {
    const invocation = claude.invocationFor(Jurisdiction.eu(['eu-west-1']), 'eu-west-1');

    expect(invocation.invocationId).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(invocation.destinationRegions).toContain('eu-central-1');
    expect(invocation.destinationRegions.every((region) => region.startsWith('eu-'))).toBe(true);
  });

  test('without a profile for the geography, a model is called in-region', () => {
    const regional = BedrockModel.of('mistral.mistral-large-2407-v1:0');

    expect(regional.invocationFor(Jurisdiction.eu(['eu-west-1']), 'eu-west-1')).toEqual({
      invocationId: 'mistral.mistral-large-2407-v1:0',
      destinationRegions: ['eu-west-1'],
    });
  });

  test('throws if a model is offered neither by profile nor in-region for a restricted jurisdiction', () => {
    const globalOnly = BedrockModel.of('anthropic.claude-opus-5-v1:0', { inferenceGeographies: ['global'], inRegionAvailability: ['us-east-1'] });

    expect(() => globalOnly.invocationFor(Jurisdiction.eu(['eu-west-1']), 'eu-west-1')).toThrow(
      /no eu inference profile .* global profile would cross the border/,
    );
  });

  test("throws if a profile's destination regions leave a restricted jurisdiction's geography", () => {
    const leaky = BedrockModel.of('anthropic.claude-x-v1:0', { inferenceGeographies: ['eu'], destinationRegions: { eu: ['eu-west-1', 'us-east-1'] } });

    expect(() => leaky.invocationFor(Jurisdiction.eu(['eu-west-1']), 'eu-west-1')).toThrow(/include us-east-1, outside the geography/);
  });

  test('the built-in models read Bedrock prompt-cache points; a model of your own does not unless it says so', () => {
    expect(claude.promptCaching).toBe(true);
    expect(nova.promptCaching).toBe(true);
    expect(BedrockModel.of('mistral.mistral-large-2407-v1:0').promptCaching).toBe(false);
    expect(BedrockModel.of('anthropic.claude-haiku-4-5-20251001-v1:0', { promptCaching: true }).promptCaching).toBe(true);
  });

  test('throws for a malformed model id', () => {
    expect(() => BedrockModel.of('claude')).toThrow(/modelId must be a foundation model id/);
  });

  test.each(['eu', 'us', 'apac', 'global'])('throws for an inference profile id with the %s. prefix, naming modelId', (geography) => {
    expect(() => BedrockModel.of(`${geography}.anthropic.claude-sonnet-4-5-20250929-v1:0`)).toThrow(
      new RegExp(`modelId must be a foundation model id, not an inference profile id; got '${geography}\\.anthropic\\.claude-sonnet-4-5-20250929-v1:0'`),
    );
  });

  describe('an unrestricted jurisdiction whose regions span geographies', () => {
    const atlantic = () => Jurisdiction.custom({ name: 'atlantic', geography: 'eu', restricted: false, regions: ['eu-west-1', 'us-east-1'] });

    test('uses the geographic profile only from regions of its geography, and calls in-region elsewhere', () => {
      expect(claude.invocationFor(atlantic(), 'eu-west-1').invocationId).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
      expect(claude.invocationFor(atlantic(), 'us-east-1')).toEqual({
        invocationId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        destinationRegions: ['us-east-1'],
      });
    });

    test('throws if the model is not offered in-region where the profile cannot be called', () => {
      const euOnly = BedrockModel.of('anthropic.claude-x-v1:0', { inferenceGeographies: ['eu'], inRegionAvailability: ['eu-west-1'] });

      expect(() => euOnly.invocationFor(atlantic(), 'us-east-1')).toThrow(/its eu inference profile cannot be called from us-east-1, outside the eu geography/);
    });

    test('a global profile is used from every region', () => {
      const world = Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['eu-west-1', 'us-east-1', 'ap-south-1'] });

      expect(world.regions.map((region) => claude.invocationFor(world, region).invocationId)).toEqual(
        Array(3).fill('global.anthropic.claude-sonnet-4-5-20250929-v1:0'),
      );
    });
  });
});

describe('ModelChain', () => {
  test('expands per region: primary here, the same model in the other regions, then the degraded model here first', () => {
    const targets = ModelChain.of(claude, nova).targetsFor(Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-west-3']), 'eu-central-1');

    expect(targets.map((target) => `${target.tier} ${target.modelId}@${target.region}`)).toEqual([
      'primary eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-central-1',
      'regional-fallback eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-west-1',
      'regional-fallback eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-west-3',
      'model-fallback eu.amazon.nova-pro-v1:0@eu-central-1',
      'model-fallback eu.amazon.nova-pro-v1:0@eu-west-1',
      'model-fallback eu.amazon.nova-pro-v1:0@eu-west-3',
    ]);
  });

  test('regionalFallback: false skips the other regions', () => {
    const targets = new ModelChain({ primary: claude, regionalFallback: false }).targetsFor(Jurisdiction.eu(['eu-west-1', 'eu-central-1']), 'eu-west-1');

    expect(targets.map((target) => target.tier)).toEqual(['primary']);
  });

  test('throws if the chain is empty', () => {
    expect(() => new ModelChain({ primary: undefined as never })).toThrow(/a chain needs at least one model/);
  });

  test('throws if a model appears twice', () => {
    expect(() => ModelChain.of(claude, nova, claude)).toThrow(/model anthropic.claude-sonnet-4-5-20250929-v1:0 appears twice/);
  });

  test('throws for a region outside the jurisdiction', () => {
    expect(() => ModelChain.of(claude).targetsFor(Jurisdiction.eu(['eu-west-1']), 'us-east-1')).toThrow(
      /region us-east-1 is not a region of jurisdiction 'eu'/,
    );
  });
});
