import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../access/decorators';
import { DomainError } from '../common/errors/domain-error';
import { PageName } from './pages';

export const PAGE_HTML = Symbol('PAGE_HTML');

/**
 * The HTML of the pages of API.md 9. Public, since a person must reach the sign-in form; everything
 * the page then does goes through the documented API routes and their guards. Not part of the OpenAPI
 * document: these are pages, not API routes.
 */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(@Inject(PAGE_HTML) private readonly pages: Map<PageName, Buffer>) {}

  @Get('account')
  @Public()
  account(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.page('account', reply);
  }

  @Get('admin')
  @Public()
  admin(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.page('admin', reply);
  }

  /** Where the link of a "Forgot your password?" mail lands (API.md 12) when PORTAL_URL is this service. */
  @Get('reset')
  @Public()
  reset(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.page('reset', reply);
  }

  private page(name: PageName, reply: FastifyReply): Buffer {
    const html = this.pages.get(name);
    if (!html) throw new DomainError('SERVICE_UNAVAILABLE', 'The web pages were not built: run `npm run build`');
    reply.type('text/html; charset=utf-8');
    return html;
  }
}
