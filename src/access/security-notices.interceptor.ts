import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { RequestWithSensitive, SensitiveActions } from './sensitive-actions.service';
import { clientInfo } from './client-info';

/**
 * After a sensitive action succeeds (the guard let it through and the handler answered), the account is
 * told by mail (API.md 12), and so is the other account an admin acted on. Requests without a sensitive
 * action pass untouched.
 */
@Injectable()
export class SecurityNoticesInterceptor implements NestInterceptor {
  constructor(private readonly sensitive: SensitiveActions) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<RequestWithSensitive>();
    if (!req.sensitiveAction) return next.handle();
    return next.handle().pipe(
      tap(() => {
        const done = req.sensitiveAction;
        if (!done) return;
        const client = clientInfo(req);
        this.sensitive.notify(done.userId, done.action, client);
        if (done.targetId) this.sensitive.notify(done.targetId, done.action, client);
      }),
    );
  }
}
