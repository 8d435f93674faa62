import { setup } from './temp-dir';

export default setup;
