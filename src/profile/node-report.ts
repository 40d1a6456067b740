import { z } from 'zod';

/** SandboxNodeReport.status: what the node agent found on its node (written by the agent only). */
export const NodeReportStatusSchema = z
  .object({
    landlockABI: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Landlock ABI of the kernel (0: none), from podfence-init --probe.'),
    kernel: z.string().optional().describe('Kernel release.'),
    agentVersion: z.string().optional().describe('Version of the node agent.'),
    installed: z
      .array(
        z.object({
          profile: z.string().describe('SandboxProfile name.'),
          hash: z.string().describe('Compiled version (16 hex characters).'),
          file: z.string().describe('File name under <kubelet root>/seccomp/podfence/.'),
        }),
      )
      .optional()
      .describe('Compiled seccomp profiles present on the node.'),
    csi: z
      .object({
        ready: z.boolean().describe('The podfence.dev CSI driver serves the wrapper on this node.'),
        helperVersion: z.string().optional().describe('Content hash of the wrapper new volumes get.'),
        message: z.string().optional().describe('Why it is not ready.'),
      })
      .optional()
      .describe('The CSI driver that delivers podfence-init (absent: the agent runs without it).'),
    updatedAt: z.string().optional().meta({ format: 'date-time' }).describe('When the agent last reported.'),
  })
  .describe('What the node agent found on its node.');

export type NodeReportStatus = z.infer<typeof NodeReportStatusSchema>;
