/**
 * The jobs a party process can run by name. party-main imports this module once; add one import and
 * one registerJob line per job (names are dotted, by area: `net.*`, `rep3.*`, ...).
 */
import { registerJob } from './jobs.js';
import { netBulk, netPing, netStall } from './net-jobs.js';

registerJob('net.ping', netPing);
registerJob('net.bulk', netBulk);
registerJob('net.stall', netStall);
import './rep3-jobs.js';
import './rep4-jobs.js';
import './gc-jobs.js';
import './bench-job.js';
import './shamir-jobs.js';
import { mlTrainJob } from './train-job.js';
registerJob('ml.train', mlTrainJob);
import { mlDistillLocalJob } from './distill-job.js';
registerJob('ml.distill.local', mlDistillLocalJob);
import './infer-job.js';
import './infer-bench.js';
import './bench-fraud-job.js';
