// A verified job's outputs: top classes for a classifier, an image for an image-shaped output, a
// table otherwise; and downloads (JSON of every output by name, .npy of each).

import { useEffect, useRef, useState } from 'preact/hooks';

import type { ReadOutput } from '../chain';
import { toNpy } from '../tensor';

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

type Kind = { kind: 'classes'; rows: number; classes: number } | { kind: 'image'; channels: number; height: number; width: number } | { kind: 'table' };

export function outputKind(tensor: ReadOutput): Kind {
  const { shape, dtype } = tensor;
  const float = dtype.startsWith('f');
  if (float && shape.length === 2 && shape[0] <= 64 && shape[1] >= 2 && shape[1] <= 1000) {
    return { kind: 'classes', rows: shape[0], classes: shape[1] };
  }
  if (float && shape.length === 1 && shape[0] >= 2 && shape[0] <= 1000) return { kind: 'classes', rows: 1, classes: shape[0] };
  if (shape.length === 4 && shape[0] === 1 && shape[2] >= 2 && shape[3] >= 2) return { kind: 'image', channels: shape[1], height: shape[2], width: shape[3] };
  if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3) && shape[1] >= 2 && shape[2] >= 2) return { kind: 'image', channels: shape[0], height: shape[1], width: shape[2] };
  if (shape.length === 2 && shape[0] >= 8 && shape[1] >= 8) return { kind: 'image', channels: 1, height: shape[0], width: shape[1] };
  return { kind: 'table' };
}

/** Probabilities as given when they already are, else the softmax of the logits. */
export function probabilities(values: number[]): number[] {
  const sum = values.reduce((s, v) => s + v, 0);
  if (values.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return values;
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / total);
}

const MAX_ROWS = 16;

function Classes({ tensor, rows, classes, labels }: { tensor: ReadOutput; rows: number; classes: number; labels: string[] | null }) {
  return (
    <div class="classes">
      {Array.from({ length: Math.min(rows, MAX_ROWS) }, (_, row) => {
        const raw = tensor.values.slice(row * classes, (row + 1) * classes);
        const probs = probabilities(raw);
        const top = probs.map((p, i) => [i, p] as const).sort((a, b) => b[1] - a[1]).slice(0, Math.min(5, classes));
        return (
          <div class="class-row" data-testid="class-row" data-top={top[0][0]}>
            {rows > 1 && <div class="muted small">sample {row}</div>}
            <ol>
              {top.map(([index, p], rank) => (
                <li class={rank === 0 ? 'top-class' : ''}>
                  <span class="class-name">{labels?.[index] ?? `class ${index}`}</span>
                  <span class="bar"><span style={{ width: `${(p * 100).toFixed(1)}%` }} /></span>
                  <span class="num">{(p * 100).toFixed(1)} %</span>
                  <span class="muted small num" title="raw output">{raw[index].toPrecision(4)}</span>
                </li>
              ))}
            </ol>
          </div>
        );
      })}
      {rows > MAX_ROWS && <div class="muted small">… {rows - MAX_ROWS} more samples: download them</div>}
    </div>
  );
}

function ImageOutput({ tensor, channels, height, width }: { tensor: ReadOutput; channels: number; height: number; width: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const rgb = channels === 3;
  const [channel, setChannel] = useState(0);
  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    element.width = width;
    element.height = height;
    const context = element.getContext('2d');
    if (!context) return;
    const plane = width * height;
    const planes = rgb ? [0, 1, 2] : [channel];
    let min = Infinity;
    let max = -Infinity;
    for (const p of planes) {
      for (let i = 0; i < plane; i++) {
        const v = tensor.values[p * plane + i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    const range = max - min || 1;
    const image = context.createImageData(width, height);
    for (let i = 0; i < plane; i++) {
      const level = (p: number) => Math.round(((tensor.values[p * plane + i] - min) / range) * 255);
      const [r, g, b] = rgb ? [level(0), level(1), level(2)] : [level(channel), level(channel), level(channel)];
      image.data.set([r, g, b, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
  }, [tensor, channel, channels, height, width]);
  return (
    <div class="image-output">
      <canvas ref={canvas} class="pixelated" style={{ width: `${Math.min(320, Math.max(96, width * 4))}px` }} />
      {!rgb && channels > 1 && (
        <label class="small">channel{' '}
          <input type="number" min={0} max={channels - 1} value={channel} onInput={(e) => setChannel(Math.max(0, Math.min(channels - 1, Number((e.target as HTMLInputElement).value))))} />
          {' '}of {channels}
        </label>
      )}
      <div class="muted small">scaled from the output's own minimum to its maximum</div>
    </div>
  );
}

function Table({ tensor }: { tensor: ReadOutput }) {
  const limit = 200;
  const shown = tensor.values.slice(0, limit);
  return (
    <div class="value-table">
      <table>
        <thead><tr><th>index</th><th>value</th></tr></thead>
        <tbody>{shown.map((v, i) => <tr><td class="num">{i}</td><td class="num">{Number.isInteger(v) ? v : v.toPrecision(6)}</td></tr>)}</tbody>
      </table>
      {tensor.values.length > limit && <div class="muted small">… {tensor.values.length - limit} more values: download them</div>}
    </div>
  );
}

export function OutputView({ outputs, job, labels }: { outputs: ReadOutput[]; job: number; labels?: string[] | null }) {
  const json = () => {
    const all: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
    outputs.forEach((t, i) => { all[t.name ?? `output${i}`] = { dtype: t.dtype, shape: t.shape, values: t.values }; });
    download(`job-${job}-outputs.json`, JSON.stringify(all), 'application/json');
  };
  return (
    <div class="outputs" data-testid="outputs">
      {outputs.map((tensor, i) => {
        const kind = outputKind(tensor);
        return (
          <div class="output">
            <h4>
              {tensor.name ?? `output ${i}`} <span class="muted small">{tensor.dtype} [{tensor.shape.join(', ')}]</span>
              {tensor.data && (
                <button class="link small" onClick={() => download(`job-${job}-${tensor.name ?? i}.npy`, toNpy({ dtype: tensor.dtype, shape: tensor.shape, data: tensor.data! }) as BlobPart, 'application/octet-stream')}>
                  .npy
                </button>
              )}
            </h4>
            {kind.kind === 'classes' && <Classes tensor={tensor} rows={kind.rows} classes={kind.classes} labels={labels ?? null} />}
            {kind.kind === 'image' && <ImageOutput tensor={tensor} channels={kind.channels} height={kind.height} width={kind.width} />}
            {kind.kind === 'table' && <Table tensor={tensor} />}
          </div>
        );
      })}
      <button class="secondary" data-testid="download-json" onClick={json}>Download outputs (JSON)</button>
    </div>
  );
}
