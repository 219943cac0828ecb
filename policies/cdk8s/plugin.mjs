// The cdk8s validation plugin, declared in cdk8s.yaml: `cdk8s synth` runs the platform policies
// on what it synthesized. cdk8s loads plugins with require(), so this entry is plain JavaScript
// and loads the TypeScript rules through tsx when validation starts.
import { register } from 'tsx/esm/api';

register();

export class PlinthPolicies {
  constructor(properties) {
    this.properties = properties ?? {};
  }

  async validate(context) {
    const { validateSynthesizedManifests } = await import('./validation.js');
    await validateSynthesizedManifests(context, this.properties);
  }
}
