// A module whose top level needs what synthesis does not have.
import { defineAgent } from 'cdk-multi-region-agent/agent';

if (!process.env.ORDERS_DATABASE_URL) throw new Error('ORDERS_DATABASE_URL is not set');

export default defineAgent({ instructions: 'Answer briefly.' });
