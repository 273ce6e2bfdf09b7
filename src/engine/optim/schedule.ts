// Learning-rate schedules: pure functions of the epoch, so a resumed run needs no schedule state.

export interface LrSchedule {
  /** The learning rate to use during `epoch` (0-based). */
  at(epoch: number): number;
}

/** lr = base * gamma^floor(epoch / stepSize), as torch.optim.lr_scheduler.StepLR. */
export class StepDecay implements LrSchedule {
  constructor(readonly base: number, readonly gamma: number, readonly stepSize: number) {
    if (!(stepSize >= 1)) throw new Error(`StepDecay: stepSize must be >= 1, got ${stepSize}`);
  }

  at(epoch: number): number {
    return this.base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export class ConstantLr implements LrSchedule {
  constructor(readonly base: number) {}

  at(): number {
    return this.base;
  }
}
