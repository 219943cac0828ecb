/**
 * The key of a namespaced object, as client-go's MetaNamespaceKeyFunc writes it: `<namespace>/<name>`.
 * Work queues and the caches' indexes use it; one format, so that a key made in one place is found
 * in another.
 */
export const objectKey = (namespace: string | undefined, name: string | undefined): string => `${namespace}/${name}`;

/** The namespace and name of a key objectKey made. */
export function splitObjectKey(key: string): { readonly namespace: string; readonly name: string } {
  const [namespace = '', name = ''] = key.split('/');
  return { namespace, name };
}
