/** The deployment compiled from the files, and its graph drawn, each a little after the last edit. */

import { useEffect, useState } from 'preact/hooks';
import { compileDeployment } from '../compile.js';
import type { Deployment, DeploymentFile } from '../deployment.js';
import { layoutDeployment } from '../graph/layout.js';
import { renderSvg } from '../graph/svg.js';

/** Compiling on every keystroke would make typing lag on a big deployment; 150 ms is under what reads as a delay. */
const COMPILE_DELAY_MS = 150;

export function useCompiled(files: DeploymentFile[]): Deployment | undefined {
  const [deployment, setDeployment] = useState<Deployment | undefined>(() => compileSafely(files));
  useEffect(() => {
    const timer = setTimeout(() => setDeployment(compileSafely(files)), COMPILE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [files]);
  return deployment;
}

function compileSafely(files: DeploymentFile[]): Deployment | undefined {
  if (files.length === 0) return undefined;
  try {
    return compileDeployment(files);
  } catch (error) {
    // The compiler reports mistakes as findings; a throw is a bug, shown rather than a blank page.
    console.error('compiling the deployment failed', error);
    return undefined;
  }
}

export interface DrawnGraph {
  svg: string;
  width: number;
  height: number;
  /** The deployment it was drawn from: the graph may lag the form by one layout. */
  deployment: Deployment;
}

export function useGraph(deployment: Deployment | undefined): { graph?: DrawnGraph; error?: string } {
  const [state, setState] = useState<{ graph?: DrawnGraph; error?: string }>({});
  useEffect(() => {
    if (!deployment) return;
    let current = true;
    layoutDeployment(deployment.graph, deployment.findings)
      .then((laid) => {
        if (!current) return;
        // The XML declaration is for standalone files; inside HTML it would be a stray node.
        const svg = renderSvg(laid).replace(/^<\?xml[^>]*>\s*/, '');
        const size = /<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"/.exec(svg);
        setState({ graph: { svg, width: Number(size?.[1] ?? 0), height: Number(size?.[2] ?? 0), deployment } });
      })
      .catch((error: unknown) => {
        if (current) setState((s) => ({ graph: s.graph, error: error instanceof Error ? error.message : String(error) }));
      });
    return () => {
      current = false;
    };
  }, [deployment]);
  return state;
}
