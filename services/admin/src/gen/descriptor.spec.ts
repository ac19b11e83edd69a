import { describe, expect, it } from 'vitest';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { AdminServiceService } from '@smshub/contracts';
import { ADMIN_DESCRIPTOR_SET } from './descriptor.js';

describe('embedded descriptor set (served by reflection)', () => {
  it('describes exactly the AdminService of the generated contracts; regenerate it with scripts/generate-descriptor.sh', () => {
    const pkg = loadFileDescriptorSetFromBuffer(Buffer.from(ADMIN_DESCRIPTOR_SET, 'base64'), {
      keepCase: true,
    });
    const service = pkg['smshub.admin.v1.AdminService'] as Record<string, { path: string }>;
    const paths = (o: Record<string, { path: string }>) =>
      Object.values(o)
        .map((m) => m.path)
        .sort();
    expect(paths(service)).toEqual(paths(AdminServiceService));
  });
});
