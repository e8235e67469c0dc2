// How long a 20 ms setTimeout lasts on this runtime: the median of 100 sequential ones, in ms,
// printed as one number. Runs on Deno, Bun and Node alike.
const WAIT_MS = 20;
const samples = [];
for (let i = 0; i < 100; i++) {
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
  samples.push(performance.now() - start);
}
samples.sort((a, b) => a - b);
console.log((samples[49] + samples[50]) / 2);
