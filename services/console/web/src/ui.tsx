import type { ComponentChildren } from 'preact';
import { onLinkClick } from './router';

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={props.href} class={props.class} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

export function Problem(props: { error: string | null }) {
  return props.error ? (
    <p class="problem" role="alert">
      {props.error}
    </p>
  ) : null;
}

export function Card(props: { label: string; value: ComponentChildren; hint?: string }) {
  return (
    <div class="card">
      <div class="card-label">{props.label}</div>
      <div class="card-value">{props.value}</div>
      {props.hint ? <div class="card-hint">{props.hint}</div> : null}
    </div>
  );
}

/** A table that scrolls sideways on a narrow screen instead of breaking the page. */
export function Table(props: { children: ComponentChildren; label: string }) {
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>{props.children}</table>
    </div>
  );
}
