/* eslint-disable no-console -- a benchmark reports to its terminal */
/**
 * npx ts-node --transpile-only bench/metrics-cost.ts
 *
 * What metrics add to one request, measured apart from the machine's noise: the work of the onResponse
 * hook (a counter and a histogram by method, route template and status) and of a sign-in's counter,
 * in CPU time per call, with the label mix of a real service (40 routes, a few statuses); and what one
 * scrape of /metrics costs. Compare with the CPU time per request of the bench's scenarios (66 to 180 µs
 * for the cheapest ones).
 */
import { cpuUsage } from 'node:process';
import { PrometheusMetrics } from '../src/metrics/prometheus';

const metrics = new PrometheusMetrics(() => ({ total: 20, idle: 18, waiting: 0, max: 20 }));
const routes = Array.from({ length: 40 }, (_, i) => `/api/resource${i}/:id`);
const statuses = [200, 200, 200, 201, 204, 401, 404];

function measure(label: string, n: number, work: (i: number) => void): number {
  for (let i = 0; i < 50_000; i++) work(i); // warm-up
  const before = cpuUsage();
  for (let i = 0; i < n; i++) work(i);
  const used = cpuUsage(before);
  const us = (used.user + used.system) / n;
  console.log(`${label.padEnd(44)} ${us.toFixed(3)} µs a call (${n.toLocaleString('en')} calls)`);
  return us;
}

async function main(): Promise<void> {
  const rounds = [1, 2, 3].map(() => {
    const http = measure('onResponse hook (counter + histogram)', 1_000_000, (i) =>
      metrics.httpRequest('GET', routes[i % routes.length], statuses[i % statuses.length], 0.004),
    );
    const signIn = measure('sign-in counter', 1_000_000, (i) =>
      metrics.signIn('password', i % 2 ? 'success' : 'wrong_password'),
    );
    return { http, signIn };
  });
  const scrapeBefore = cpuUsage();
  const n = 200;
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes = (await metrics.scrape()).body.length;
  const scrape = cpuUsage(scrapeBefore);
  console.log(
    `scrape of /metrics (${bytes.toLocaleString('en')} bytes)`.padEnd(44),
    `${((scrape.user + scrape.system) / n / 1000).toFixed(2)} ms a scrape`,
  );
  const best = Math.min(...rounds.map((r) => r.http));
  console.log(`per request, best of 3 rounds: ${best.toFixed(3)} µs`);
}

void main();
