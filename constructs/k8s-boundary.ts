import { k8s } from 'cdk8s-plus-28';
import type { V1EnvVar, V1Volume } from '@kubernetes/client-node';

/**
 * model/ and the controller speak one Kubernetes vocabulary, @kubernetes/client-node's V1 types.
 * cdk8s's generated k8s types wrap quantities in a class and spell a few fields differently
 * (`volumeId`), and write only the fields they know: a V1 object passed through unconverted could
 * lose a field silently. So model values cross into the constructs here, field by field.
 */
export function cdk8sEnv(env: readonly V1EnvVar[]): k8s.EnvVar[] {
  return env.map(({ valueFrom, ...plain }) => {
    if (!valueFrom) return plain;
    const { resourceFieldRef, ...rest } = valueFrom;
    return {
      ...plain,
      valueFrom: {
        ...rest,
        ...(resourceFieldRef && {
          resourceFieldRef: {
            ...resourceFieldRef,
            divisor:
              resourceFieldRef.divisor === undefined ? undefined : k8s.Quantity.fromString(resourceFieldRef.divisor),
          },
        }),
      },
    };
  });
}

/** The volume sources the model hands out: Secrets, ConfigMaps, claims and scratch space. */
export function cdk8sVolumes(volumes: readonly V1Volume[]): k8s.Volume[] {
  return volumes.map(({ name, secret, configMap, persistentVolumeClaim, emptyDir, ...others }) => {
    const unknown = Object.keys(others);
    if (unknown.length > 0) {
      throw new Error(
        `volume "${name}" uses ${unknown.join(', ')}; the constructs take secret, configMap, persistentVolumeClaim or emptyDir volumes`,
      );
    }
    return {
      name,
      secret,
      configMap,
      persistentVolumeClaim,
      emptyDir: emptyDir && {
        medium: emptyDir.medium,
        sizeLimit: emptyDir.sizeLimit === undefined ? undefined : k8s.Quantity.fromString(emptyDir.sizeLimit),
      },
    };
  });
}
