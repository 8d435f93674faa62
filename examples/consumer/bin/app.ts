/** `cdk synth` runs this file (cdk.json): the app of lib/app.ts. */
import { createApp } from '../lib/app';

createApp().synth();
