// A definition made by another major version of the agent contract.
export default { kind: 'cdk-multi-region-agent/agent@0', manifest: () => ({}) };
