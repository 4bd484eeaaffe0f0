/**
 * Folds what follows a convolution into the convolution itself, for the shipped model: a batch
 * normalisation goes into its kernel and bias, a ReLU becomes its fused activation. The model computes
 * the same function (to float rounding) with about a third fewer full-size passes over the feature maps,
 * which on wasm makes inference about a quarter faster.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type InboundReference = [string, number, number, Record<string, unknown>];

interface LayerConfig {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: InboundReference[][];
}

interface ModelConfig {
  name: string;
  layers: LayerConfig[];
  input_layers: unknown;
  output_layers: Array<[string, number, number]>;
}

/** What a convolution absorbs: the layers that followed it, each its predecessor's only consumer. */
interface Absorbed {
  normalisation?: string;
  relu?: string;
}

/**
 * The model with every batch normalisation and ReLU that is a convolution's only consumer folded into
 * it. Layers named in `preserve` (e.g. the Grad-CAM layer, whose output is read by name) stay.
 */
export async function foldIntoConvolutions(
  model: tfl.LayersModel,
  preserve: readonly string[] = []
): Promise<tfl.LayersModel> {
  const { config } = model.toJSON(null, false) as unknown as { config: ModelConfig };
  const absorbed = absorbedLayers(config, new Set(preserve));
  const folded = await tfl.models.modelFromJSON({
    class_name: 'Model',
    config: withAbsorbedLayers(config, absorbed),
  } as unknown as tf.io.ModelJSON);
  for (const layer of folded.layers) {
    const normalisation = absorbed.get(layer.name)?.normalisation;
    layer.setWeights(
      normalisation
        ? foldedWeights(model.getLayer(layer.name), model.getLayer(normalisation))
        : model.getLayer(layer.name).getWeights()
    );
  }
  return folded;
}

function absorbedLayers({ layers }: ModelConfig, preserve: Set<string>): Map<string, Absorbed> {
  const consumers = new Map<string, LayerConfig[]>();
  for (const layer of layers) {
    for (const [inbound] of layer.inbound_nodes.flat())
      consumers.set(inbound, [...(consumers.get(inbound) ?? []), layer]);
  }
  const onlyConsumer = (name: string) => {
    const next = consumers.get(name);
    return next?.length === 1 && !preserve.has(next[0].name) ? next[0] : undefined;
  };
  const absorbed = new Map<string, Absorbed>();
  for (const conv of layers) {
    if (conv.class_name !== 'Conv2D' || conv.config.activation !== 'linear') continue;
    let next = onlyConsumer(conv.name);
    const merged: Absorbed = {};
    if (next && isChannelNormalisation(next)) {
      merged.normalisation = next.name;
      next = onlyConsumer(next.name);
    }
    if (next && next.class_name === 'Activation' && next.config.activation === 'relu')
      merged.relu = next.name;
    if (merged.normalisation || merged.relu) absorbed.set(conv.name, merged);
  }
  return absorbed;
}

function isChannelNormalisation(layer: LayerConfig): boolean {
  return (
    layer.class_name === 'BatchNormalization' &&
    (layer.config.axis === -1 || layer.config.axis === 3)
  );
}

function withAbsorbedLayers(config: ModelConfig, absorbed: Map<string, Absorbed>): ModelConfig {
  const absorber = new Map<string, string>();
  for (const [conv, { normalisation, relu }] of absorbed) {
    for (const name of [normalisation, relu]) if (name) absorber.set(name, conv);
  }
  const rename = (name: string) => absorber.get(name) ?? name;
  const convConfig = (layer: LayerConfig) => {
    const merged = absorbed.get(layer.name);
    if (!merged) return layer.config;
    return {
      ...layer.config,
      ...(merged.normalisation ? { use_bias: true } : {}),
      ...(merged.relu ? { activation: 'relu' } : {}),
    };
  };
  return {
    ...config,
    layers: config.layers
      .filter(layer => !absorber.has(layer.name))
      .map(layer => ({
        ...layer,
        config: convConfig(layer),
        inbound_nodes: layer.inbound_nodes.map(node =>
          node.map(([name, ...rest]): InboundReference => [rename(name), ...rest])
        ),
      })),
    output_layers: config.output_layers.map(([name, ...rest]) => [rename(name), ...rest]),
  };
}

/** kernel·s and (bias − mean)·s + β per output channel, with s = γ / √(variance + ε). */
function foldedWeights(conv: tfl.layers.Layer, normalisation: tfl.layers.Layer): tf.Tensor[] {
  const {
    epsilon,
    center,
    scale: scaled,
  } = normalisation.getConfig() as {
    epsilon: number;
    center: boolean;
    scale: boolean;
  };
  const normalisationWeights = normalisation.getWeights();
  const gamma = scaled ? normalisationWeights.shift() : undefined;
  const beta = center ? normalisationWeights.shift() : undefined;
  const [mean, variance] = normalisationWeights;
  const [kernel, bias] = conv.getWeights();
  return tf.tidy(() => {
    const inverseDeviation = tf.rsqrt(tf.add(variance, epsilon));
    const scale = gamma ? tf.mul(gamma, inverseDeviation) : inverseDeviation;
    const shifted = tf.mul(tf.sub(bias ?? tf.zerosLike(mean), mean), scale);
    return [tf.mul(kernel, scale), beta ? tf.add(shifted, beta) : shifted];
  });
}
