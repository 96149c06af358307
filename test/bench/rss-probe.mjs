// Preloaded into a benchmarked process (NODE_OPTIONS=--import=…): reports its peak RSS at exit.
import { writeSync } from 'node:fs';

process.on('exit', () => writeSync(2, `MCW_BENCH_PEAK_RSS ${process.resourceUsage().maxRSS * 1024}\n`));
