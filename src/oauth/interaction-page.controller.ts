import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../access/decorators';
import { DomainError } from '../common/errors/domain-error';
import { loadPages, webRoot } from '../pages/pages';

/**
 * The page of an OAuth authorization request (`/interaction/:uid`, web/oauth): HTML only, like the pages
 * of API.md 9, with their Content-Security-Policy; what it does goes through InteractionController.
 */
@ApiExcludeController()
@Controller('interaction')
export class InteractionPageController {
  private readonly html = loadPages(webRoot()).get('oauth');

  @Get(':uid')
  @Public()
  page(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    if (!this.html) throw new DomainError('SERVICE_UNAVAILABLE', 'The web pages were not built: run `npm run build`');
    reply.type('text/html; charset=utf-8');
    return this.html;
  }
}
